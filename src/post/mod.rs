//! The steps after a download: what happens to a release's files once they are verified and
//! stored (extraction), what is announced (notifications), and what is kept (retention). Each
//! step works on stored files only and reports its own failures, so a failed step never undoes
//! or hides the download itself.

pub mod extract;
pub mod notify;
pub mod retention;
