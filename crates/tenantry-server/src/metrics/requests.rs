//! Request counts and latencies, kept per thread and summed at the scrape.
//!
//! Every request of every route is recorded, so recording must not make the runtime's worker
//! threads share anything: a shared counter or histogram lock is a cache line the cores pass back
//! and forth on each request. Each thread therefore tallies into its own table (behind a mutex
//! only the scrape ever contends for), and the scrape adds the tables up.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, NoLabelSet};
use prometheus_client::metrics::MetricType;

/// Upper bounds of the latency buckets, in seconds: the hot paths answer in well under a
/// millisecond, a page of a large org in a few, a password check in tens to hundreds.
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// One (method, route, status class)'s figures: how many, their total time, and how many fell in
/// each bucket (the last is above every bound).
#[derive(Debug, Clone, Default)]
struct Tally {
    count: u64,
    seconds: f64,
    buckets: [u64; BUCKETS.len() + 1],
}

impl Tally {
    fn add(&mut self, seconds: f64) {
        self.count += 1;
        self.seconds += seconds;
        let bucket = BUCKETS.iter().position(|bound| seconds <= *bound).unwrap_or(BUCKETS.len());
        self.buckets[bucket] += 1;
    }

    fn merge(&mut self, other: &Tally) {
        self.count += other.count;
        self.seconds += other.seconds;
        for (mine, theirs) in self.buckets.iter_mut().zip(other.buckets) {
            *mine += theirs;
        }
    }
}

/// One thread's tallies: by route (looked up by `&str`, so recording allocates nothing once a
/// route has been seen), then by method and status class.
type ThreadTable = Mutex<HashMap<String, Vec<(&'static str, &'static str, Tally)>>>;

/// Each `RequestFigures` is told apart in the threads' tables by a number of its own (a process
/// may serve several applications, as the tests do).
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static TABLES: RefCell<Vec<(u64, Arc<ThreadTable>)>> = const { RefCell::new(Vec::new()) };
}

/// The request figures of one application.
#[derive(Debug)]
pub struct RequestFigures {
    id: u64,
    /// Every thread's table, for the scrape.
    tables: Mutex<Vec<Arc<ThreadTable>>>,
}

impl Default for RequestFigures {
    fn default() -> Self {
        Self { id: NEXT_ID.fetch_add(1, Ordering::Relaxed), tables: Mutex::default() }
    }
}

impl RequestFigures {
    pub fn record(&self, method: &'static str, route: &str, status: &'static str, seconds: f64) {
        self.with_this_threads_table(|table| {
            let mut table = table.lock().unwrap_or_else(PoisonError::into_inner);
            let tallies = match table.get_mut(route) {
                Some(tallies) => tallies,
                None => table.entry(route.to_owned()).or_default(),
            };
            match tallies.iter_mut().find(|(m, s, _)| *m == method && *s == status) {
                Some((_, _, tally)) => tally.add(seconds),
                None => {
                    let mut tally = Tally::default();
                    tally.add(seconds);
                    tallies.push((method, status, tally));
                }
            }
        })
    }

    /// Runs `work` on this thread's table, made (and handed to the scrape) on first use.
    fn with_this_threads_table(&self, work: impl FnOnce(&ThreadTable)) {
        TABLES.with(|tables| {
            let mut tables = tables.borrow_mut();
            if let Some((_, table)) = tables.iter().find(|(id, _)| *id == self.id) {
                return work(table);
            }
            let table = Arc::new(ThreadTable::default());
            self.tables.lock().unwrap_or_else(PoisonError::into_inner).push(table.clone());
            work(&table);
            tables.push((self.id, table));
        })
    }

    /// Every thread's tallies added up, in a stable order.
    fn totals(&self) -> BTreeMap<(String, &'static str, &'static str), Tally> {
        let mut totals: BTreeMap<_, Tally> = BTreeMap::new();
        for table in self.tables.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            for (route, tallies) in table.lock().unwrap_or_else(PoisonError::into_inner).iter() {
                for (method, status, tally) in tallies {
                    totals.entry((route.clone(), *method, *status)).or_default().merge(tally);
                }
            }
        }
        totals
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: &'static str,
}

/// Renders the figures as `http_requests_total` and `http_request_duration_seconds`.
#[derive(Debug)]
pub struct RequestCollector(pub Arc<RequestFigures>);

impl Collector for RequestCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let totals = self.0.totals();
        let labels = |(route, method, status): &(String, &'static str, &'static str)| RequestLabels {
            method,
            route: route.clone(),
            status,
        };
        let mut counts = encoder.encode_descriptor(
            "http_requests",
            "Requests answered, by method, matched route and status class.",
            None,
            MetricType::Counter,
        )?;
        for (key, tally) in &totals {
            let labels = labels(key);
            counts.encode_family(&labels)?.encode_counter::<NoLabelSet, _, u64>(&tally.count, None)?;
        }
        let mut latencies = encoder.encode_descriptor(
            "http_request_duration_seconds",
            "Time to answer a request (to its response head), by method, matched route and status class.",
            None,
            MetricType::Histogram,
        )?;
        for (key, tally) in &totals {
            let labels = labels(key);
            let buckets: Vec<(f64, u64)> =
                BUCKETS.iter().copied().chain([f64::INFINITY]).zip(tally.buckets.iter().copied()).collect();
            latencies.encode_family(&labels)?.encode_histogram::<NoLabelSet>(
                tally.seconds,
                tally.count,
                &buckets,
                None,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_from_several_threads_add_up_per_route_method_and_status() {
        let figures = Arc::new(RequestFigures::default());
        std::thread::scope(|scope| {
            for _ in 0..4 {
                let figures = figures.clone();
                scope.spawn(move || {
                    for i in 0..100 {
                        figures.record("GET", "/v1/orgs/{org}", if i % 10 == 0 { "4xx" } else { "2xx" }, 0.0002);
                        figures.record("POST", "/v1/authorize", "2xx", 0.003);
                    }
                });
            }
        });
        let totals = figures.totals();
        let get = &totals[&("/v1/orgs/{org}".to_owned(), "GET", "2xx")];
        assert_eq!((get.count, get.buckets[0]), (360, 360));
        assert_eq!(totals[&("/v1/orgs/{org}".to_owned(), "GET", "4xx")].count, 40);
        let authorize = &totals[&("/v1/authorize".to_owned(), "POST", "2xx")];
        assert_eq!(authorize.count, 400);
        assert_eq!(authorize.buckets[3], 400, "3 ms falls in the 5 ms bucket");
        assert!((authorize.seconds - 1.2).abs() < 1e-9);
    }

    #[test]
    fn applications_in_one_process_keep_their_own_figures() {
        let (first, second) = (RequestFigures::default(), RequestFigures::default());
        first.record("GET", "/health", "2xx", 0.0001);
        assert_eq!(first.totals().len(), 1);
        assert!(second.totals().is_empty());
    }
}
