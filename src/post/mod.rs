//! The steps after a download: what happens to stored releases once they are verified and
//! recorded (retention; extraction and notifications).

pub mod retention;
