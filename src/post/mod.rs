//! The after-download steps (`download.post_download`): what happens to a release's files once
//! they are verified and stored. Each step works on stored files only and reports its own
//! failures, so a failed step never undoes or hides the download itself.

pub mod extract;
