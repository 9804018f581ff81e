//! A *reader* is a person the library lends to, known by whichever entry
//! they signed in through: an Alipay user id, a WeChat openid (with the
//! unionid that ties one person's WeChat apps together), a virtual card.
//!
//! - *Signing in* finds the reader behind an identity the provider vouched
//!   for, creating one on first sign-in ([`store::sign_in`]).
//! - *Linking* adds a second identity to a signed-in reader, so the same
//!   person through Alipay and WeChat is one reader with one set of loans.
//! - A reader's *standing* is the latest credit decision, or a paid deposit
//!   ([`standing`]); the *virtual card* is issued on a deposit-free standing
//!   or a paid deposit ([`store::issue_card`]).
//! - A *deposit* is the fallback for readers without enough credit: an
//!   Alipay payment whose asynchronous notification confirms it
//!   ([`deposit`]).
//! - On the web, a reader signs in through the providers' *authorize*
//!   pages ([`authorize`]) and reads their own *notices* ([`notices`]).
//! - Whether a reader may take one more book now is [`borrowing::check`].

pub mod authorize;
pub mod borrowing;
pub mod deposit;
pub mod notices;
pub mod standing;
pub mod store;

pub use standing::StandingName;
pub use store::{Identity, Reader};
