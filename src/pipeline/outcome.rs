//! A run's outcome: the result document every front end prints, and the exit status it implies.
//! Assembled here once, so `monitor`, `monitor --download` and `download` cannot drift apart.

use serde_json::Value;

use crate::download::DownloadReport;
use crate::exit;
use crate::monitor::Report;
use crate::notify::NotificationResult;
use crate::retention::RetentionReport;

/// Where a run's report came from; it decides the result's shape and whether the report's
/// errors count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// This run's monitor: the result is the report, with `download_results` when downloads ran.
    Monitor,
    /// A report read from a file or stdin (`download`): the result is the download result.
    Input,
}

/// Everything one run did, stage by stage.
#[derive(Debug)]
pub struct Outcome {
    /// Where the report came from.
    pub origin: Origin,
    /// The monitor's report (read or produced).
    pub report: Report,
    /// The download result, when downloads ran.
    pub downloads: Option<DownloadReport>,
    /// The retention result, when retention ran after the downloads.
    pub retention: Option<RetentionReport>,
    /// The notifications attempted.
    pub notifications: Vec<NotificationResult>,
}

impl Outcome {
    /// The result document: for [`Origin::Monitor`] the report with `download_results` (the
    /// download result with `retention`), for [`Origin::Input`] the download result with
    /// `retention`; either with `notifications` when any was attempted.
    pub fn to_json(&self) -> Result<Value, serde_json::Error> {
        let mut value = match (self.origin, &self.downloads) {
            (Origin::Monitor, downloads) => {
                let mut value = serde_json::to_value(&self.report)?;
                if let (Some(d), Some(obj)) = (downloads, value.as_object_mut()) {
                    let results = with_retention(d, self.retention.as_ref())?;
                    obj.insert("download_results".to_string(), results);
                }
                value
            }
            (Origin::Input, Some(d)) => with_retention(d, self.retention.as_ref())?,
            (Origin::Input, None) => Value::Object(serde_json::Map::new()),
        };
        if !self.notifications.is_empty()
            && let Some(obj) = value.as_object_mut()
        {
            obj.insert(
                "notifications".to_string(),
                serde_json::to_value(&self.notifications)?,
            );
        }
        Ok(value)
    }

    /// [`exit::OK`] when nothing failed, else [`exit::PARTIAL_FAILURE`]: a failed repository
    /// (when the report is this run's), download, retention step or notification.
    pub fn exit_status(&self) -> u8 {
        let monitor_failed = self.origin == Origin::Monitor && !self.report.errors.is_empty();
        let download_failed = self
            .downloads
            .as_ref()
            .is_some_and(DownloadReport::has_failures);
        let retention_failed = self
            .retention
            .as_ref()
            .is_some_and(|r| !r.failed.is_empty());
        let notify_failed = self.notifications.iter().any(|n| !n.ok);
        if monitor_failed || download_failed || retention_failed || notify_failed {
            exit::PARTIAL_FAILURE
        } else {
            exit::OK
        }
    }
}

/// The download result as JSON, with the retention result (if any) under `retention`.
fn with_retention(
    result: &DownloadReport,
    retention: Option<&RetentionReport>,
) -> Result<Value, serde_json::Error> {
    let mut value = serde_json::to_value(result)?;
    if let (Some(r), Some(obj)) = (retention, value.as_object_mut()) {
        obj.insert("retention".to_string(), serde_json::to_value(r)?);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::download::Failed;
    use crate::monitor::RepoFailure;
    use crate::retention::RetentionFailure;

    fn report(errors: usize) -> Report {
        Report {
            timestamp: "2026-12-03T00:00:00+00:00".into(),
            total_repositories_checked: 2,
            new_releases_found: 0,
            releases: Vec::new(),
            errors: (0..errors)
                .map(|_| RepoFailure {
                    repository: "a/b".into(),
                    error: "gone".into(),
                })
                .collect(),
            pending: Vec::new(),
        }
    }

    fn outcome(origin: Origin, errors: usize, downloads: Option<DownloadReport>) -> Outcome {
        Outcome {
            origin,
            report: report(errors),
            downloads,
            retention: None,
            notifications: Vec::new(),
        }
    }

    fn failed_download() -> DownloadReport {
        DownloadReport {
            failed: vec![Failed {
                repository: "a/b".into(),
                tag_name: "v1".into(),
                asset: None,
                error: "boom".into(),
            }],
            ..DownloadReport::default()
        }
    }

    #[test]
    fn a_monitor_result_is_the_report_with_download_results_and_retention_nested() {
        let mut o = outcome(Origin::Monitor, 0, Some(DownloadReport::default()));
        o.retention = Some(RetentionReport {
            keep_versions: 3,
            ..RetentionReport::default()
        });
        let v = o.to_json().unwrap();
        assert_eq!(v["total_repositories_checked"], json!(2));
        assert_eq!(
            v["download_results"]["retention"]["keep_versions"],
            json!(3)
        );
        assert!(v.get("retention").is_none(), "{v}");
        assert!(v.get("notifications").is_none(), "{v}");
        let plain = outcome(Origin::Monitor, 0, None).to_json().unwrap();
        assert!(plain.get("download_results").is_none(), "{plain}");
    }

    #[test]
    fn a_download_result_has_retention_and_notifications_at_the_top() {
        let mut o = outcome(Origin::Input, 0, Some(DownloadReport::default()));
        o.retention = Some(RetentionReport::default());
        o.notifications = vec![NotificationResult {
            target: "slack".into(),
            ok: false,
            error: Some("refused".into()),
        }];
        let v = o.to_json().unwrap();
        assert!(
            v.get("timestamp").is_none(),
            "the input report is not repeated: {v}"
        );
        assert_eq!(v["downloaded"], json!([]));
        assert!(v.get("retention").is_some(), "{v}");
        assert_eq!(v["notifications"][0]["target"], json!("slack"));
    }

    #[test]
    fn every_failed_stage_makes_the_run_a_partial_failure() {
        assert_eq!(outcome(Origin::Monitor, 0, None).exit_status(), exit::OK);
        assert_eq!(
            outcome(Origin::Monitor, 1, None).exit_status(),
            exit::PARTIAL_FAILURE
        );
        // A read report's errors were the earlier run's to report.
        assert_eq!(
            outcome(Origin::Input, 1, Some(DownloadReport::default())).exit_status(),
            exit::OK
        );
        assert_eq!(
            outcome(Origin::Input, 0, Some(failed_download())).exit_status(),
            exit::PARTIAL_FAILURE
        );
        let mut retention = outcome(Origin::Input, 0, Some(DownloadReport::default()));
        retention.retention = Some(RetentionReport {
            failed: vec![RetentionFailure {
                repository: "a/b".into(),
                tag_name: None,
                error: "busy".into(),
            }],
            ..RetentionReport::default()
        });
        assert_eq!(retention.exit_status(), exit::PARTIAL_FAILURE);
        let mut notify = outcome(Origin::Monitor, 0, None);
        notify.notifications = vec![NotificationResult {
            target: "email".into(),
            ok: false,
            error: None,
        }];
        assert_eq!(notify.exit_status(), exit::PARTIAL_FAILURE);
    }
}
