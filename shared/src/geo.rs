//! Coordinates on the earth and the distance between them, for "nearest
//! service point" answers.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// A WGS-84 position in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Coordinates {
    /// Latitude, -90 to 90.
    pub lat: f64,
    /// Longitude, -180 to 180.
    pub lon: f64,
}

const EARTH_RADIUS_M: f64 = 6_371_008.8;

impl Coordinates {
    /// Builds a position, refusing values off the globe.
    pub fn new(lat: f64, lon: f64) -> Result<Self> {
        if !(-90.0..=90.0).contains(&lat) {
            return Err(Error::invalid("lat", "must be between -90 and 90"));
        }
        if !(-180.0..=180.0).contains(&lon) {
            return Err(Error::invalid("lon", "must be between -180 and 180"));
        }
        Ok(Coordinates { lat, lon })
    }

    /// Great-circle distance in metres (haversine).
    pub fn distance_m(&self, other: &Coordinates) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().asin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_between_two_known_places_is_about_right() {
        // Hangzhou Library (new main building) to West Lake's Broken Bridge: ~6.5 km.
        let library = Coordinates::new(30.2870, 120.2020).unwrap();
        let bridge = Coordinates::new(30.2610, 120.1510).unwrap();
        let d = library.distance_m(&bridge);
        assert!((5_000.0..7_000.0).contains(&d), "{d}");
    }

    #[test]
    fn positions_off_the_globe_are_refused() {
        assert!(Coordinates::new(91.0, 0.0).is_err());
        assert!(Coordinates::new(0.0, -181.0).is_err());
    }
}
