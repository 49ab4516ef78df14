//! Estimated travel time between two places: great-circle distance times a
//! road factor, divided by an average speed, plus the time to load and
//! unload.
//!
//! Defaults are for the mountain roads of 鄂西北 (十堰 and its counties):
//! roads there wind along valleys, so the road distance between two towns is
//! typically 1.4 to 1.8 times the straight line (the G70 and G316 corridors
//! run near 1.3; county and township roads over the 武当山 and 大巴山 spurs
//! are worse); a loaded relief truck averages 40 km/h on such roads, mixing
//! expressway stretches at 70-80 with switchbacks at 20-30. One hour covers
//! loading at the depot and unloading at arrival. All three are set per
//! deployment (`--road-factor`, `--speed-kmh`, `--handling-hours`) once the
//! bureau has timed its own runs.

use crate::depot::GeoPoint;
use serde::{Deserialize, Serialize};

/// The mean Earth radius in kilometres (IUGG).
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// How travel time is estimated.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TravelModel {
    /// Road distance over straight-line distance.
    pub road_factor: f64,
    /// Average speed of a loaded truck, km/h.
    pub speed_kmh: f64,
    /// Loading and unloading, hours.
    pub handling_hours: f64,
}

impl Default for TravelModel {
    fn default() -> Self {
        Self {
            road_factor: 1.6,
            speed_kmh: 40.0,
            handling_hours: 1.0,
        }
    }
}

impl TravelModel {
    /// Checks a model: factor 1 to 5, speed 5 to 150 km/h, handling 0 to 24 h.
    pub fn checked(self) -> Result<Self, String> {
        let ok = (1.0..=5.0).contains(&self.road_factor)
            && (5.0..=150.0).contains(&self.speed_kmh)
            && (0.0..=24.0).contains(&self.handling_hours);
        if ok {
            Ok(self)
        } else {
            Err("road factor must be 1 to 5, speed 5 to 150 km/h, handling 0 to 24 hours".into())
        }
    }

    /// Road kilometres and hours from `a` to `b`.
    pub fn estimate(&self, a: &GeoPoint, b: &GeoPoint) -> (f64, f64) {
        let road = distance_km(a, b) * self.road_factor;
        (road, road / self.speed_kmh + self.handling_hours)
    }
}

/// Great-circle distance in kilometres (haversine).
pub fn distance_km(a: &GeoPoint, b: &GeoPoint) -> f64 {
    let (la1, la2) = (a.latitude.to_radians(), b.latitude.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.longitude - a.longitude).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// Hours as milliseconds, rounded up to the minute.
pub fn hours_ms(hours: f64) -> i64 {
    let minutes = (hours * 60.0).ceil();
    if minutes.is_finite() && minutes >= 0.0 {
        (minutes as i64).saturating_mul(60_000)
    } else {
        i64::MAX / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(latitude: f64, longitude: f64) -> GeoPoint {
        GeoPoint {
            latitude,
            longitude,
        }
    }

    #[test]
    fn distances_match_hand_computed_ones() {
        // 十堰 city centre to 竹山 county seat: 69.8 km in a straight line
        // (computed by hand with the haversine formula).
        let sy = p(32.6292, 110.7980);
        let zs = p(32.2250, 110.2291);
        let d = distance_km(&sy, &zs);
        assert!((d - 69.79).abs() < 0.01, "{d}");
        assert_eq!(distance_km(&sy, &sy), 0.0);
        // One degree of latitude is about 111.2 km.
        assert!((distance_km(&p(30.0, 110.0), &p(31.0, 110.0)) - 111.2).abs() < 0.1);
    }

    #[test]
    fn travel_time_is_road_distance_over_speed_plus_handling() {
        let m = TravelModel::default();
        let (road, hours) = m.estimate(&p(30.0, 110.0), &p(31.0, 110.0));
        assert!((road - 177.91).abs() < 0.01, "{road}");
        assert!((hours - (177.912 / 40.0 + 1.0)).abs() < 0.001, "{hours}");
        assert_eq!(hours_ms(1.5), 90 * 60_000);
        assert_eq!(hours_ms(0.001), 60_000);
        assert!(
            TravelModel {
                speed_kmh: 0.0,
                ..m
            }
            .checked()
            .is_err()
        );
    }
}
