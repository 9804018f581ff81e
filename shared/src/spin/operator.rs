//! Who may use `/admin/*`: the deployment's operator token, or a staff
//! session of someone whose role allows the request
//! ([`crate::auth::admit_role`]). The admin and catalogue components both
//! call [`authorize`] before anything else.

use crate::auth::{self, Access};
use crate::request::Request;
use crate::spin::{config, db, session};
use crate::{now_ms, staff, Error, Result};

/// Lets the request through when it carries the `admin_token`, or the
/// session token of a member of staff whose role may do `access`.
/// 401 without a valid credential, 403 when the role may not.
pub fn authorize(request: &Request, access: Access) -> Result<()> {
    match auth::require_bearer(request, &config::required("admin_token")?) {
        Err(Error::Unauthenticated) => {}
        decided => return decided,
    }
    let claims = session::authenticate_staff(request, now_ms())?;
    let member = staff::signed_in(db::connect()?.as_ref(), claims.reader_id)?;
    auth::admit_role(&member.role, access)
}
