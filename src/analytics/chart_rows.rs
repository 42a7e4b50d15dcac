//! What the charts draw, computed in one place for `immdqa chart` and the report: each chart
//! kind names the rows it needs ([`Needs`], `charts::Kind::needs`), [`rows`] computes those
//! and only those over one range. A new chart needing new rows adds a field here.

use chrono::NaiveDate;

use super::breakdown::{self, Timeliness};
use super::consent::{self, WeeklyConsent};
use super::score::{self, ScoreInputs, SiteScore};
use super::submissions::{self, SubmissionRow};
use super::trends::{TrendBy, TrendOptions, TrendRow};
use super::{AnalyticsError, History, thresholds, week_start};
use crate::ledger::owners::Owners;
use crate::store::Store;

/// Which rows a chart draws.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    pub trend: bool,
    pub submissions: bool,
    pub consent: bool,
    pub timeliness: bool,
    pub scores: bool,
}

impl Needs {
    /// What either needs.
    pub fn or(self, o: Needs) -> Needs {
        Needs {
            trend: self.trend || o.trend,
            submissions: self.submissions || o.submissions,
            consent: self.consent || o.consent,
            timeliness: self.timeliness || o.timeliness,
            scores: self.scores || o.scores,
        }
    }
}

/// The range and settings the rows are computed for.
pub struct Query<'a> {
    /// The trend's breakdown (field, code, site…).
    pub by: TrendBy,
    /// From this day (None: the history's start; the scorecard: 12 weeks before `until`).
    pub since: Option<NaiveDate>,
    /// Up to this day (None: today).
    pub until: Option<NaiveDate>,
    /// Consent ages and lint's "not in the future".
    pub today: NaiveDate,
    pub owners: &'a Owners<'a>,
    pub score: &'a crate::config::ScoreConfig,
    pub registries: &'a crate::config::Registries,
}

/// The rows of every chart kind (empty where not needed).
#[derive(Debug, Default)]
pub struct ChartRows {
    pub trend: Vec<TrendRow>,
    /// With their batch sizes: a listing without counts is drawn up to the most its size
    /// allows.
    pub submissions: Vec<SubmissionRow>,
    pub consent: Vec<WeeklyConsent>,
    pub timeliness: Vec<Timeliness>,
    pub scores: Vec<SiteScore>,
}

/// Compute what `needs` asks for over the query's range.
pub fn rows(
    store: &Store,
    h: &History,
    needs: Needs,
    q: &Query<'_>,
) -> Result<ChartRows, AnalyticsError> {
    let profile = h.profile.as_deref();
    let mut out = ChartRows::default();
    if needs.trend {
        let opts = TrendOptions {
            by: q.by,
            since: q.since,
            until: q.until,
            top: None,
            split_profiles: false,
        };
        out.trend = breakdown::trends_any(store, h, &opts, q.owners)?;
    }
    if needs.submissions {
        let subs = submissions::submissions(h, q.since)?;
        out.submissions = thresholds::with_sent_sizes(subs, store, profile)?;
        if let Some(u) = q.until {
            out.submissions.retain(|s| s.date.is_none_or(|d| d <= u));
        }
    }
    if needs.consent {
        out.consent = consent::consent(store, h, q.today)?.weekly;
        out.consent.retain(|w| {
            q.since.is_none_or(|s| w.week >= week_start(s)) && q.until.is_none_or(|u| w.week <= u)
        });
    }
    if needs.timeliness {
        out.timeliness = breakdown::timeliness(store, profile, q.since, q.until)?;
    }
    if needs.scores {
        let to = week_start(q.until.unwrap_or(q.today));
        let from = week_start(q.since.unwrap_or(to - chrono::Duration::weeks(11)));
        let inputs = ScoreInputs {
            weights: q.score,
            registries: q.registries,
            today: q.today,
        };
        out.scores = score::scores(store, profile, (from, to), &inputs)?;
    }
    Ok(out)
}
