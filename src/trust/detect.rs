//! detect (being written).
