//! Many seeds' verdicts added up: per fault class (schedules holding it,
//! Orders approved in them, violations in them) and per invariant.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::invariants::Invariant;
use crate::run::SeedReport;
use crate::schedule::FaultClass;

/// One row of the per-class table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClassRow {
    /// Schedules holding the class.
    pub schedules: u32,
    /// Orders approved in them.
    pub orders: u32,
    /// Violations in them.
    pub violations: u32,
    /// Seeds among them with at least one violation.
    pub failed: u32,
}

/// The sum of many seeds.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Seeds run.
    pub seeds: u32,
    /// Orders approved over all seeds.
    pub orders: u32,
    /// Seeds that did not settle before their deadline.
    pub unsettled: u32,
    /// Per class.
    pub classes: BTreeMap<FaultClass, ClassRow>,
    /// Per invariant: violations and seeds with one.
    pub invariants: BTreeMap<Invariant, (u32, u32)>,
    /// Seeds with a violation, with their first violation.
    pub failed: Vec<(u64, String)>,
    /// Seeds that could not be run at all, with why.
    pub errors: Vec<(u64, String)>,
    /// Seconds spent in seeds (summed).
    pub seconds: f64,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Tally {
    /// Adds one seed's verdict.
    pub fn add(&mut self, report: &SeedReport) {
        self.seeds += 1;
        self.orders += count(report.approved);
        self.unsettled += u32::from(!report.settled);
        self.seconds += report.elapsed.as_secs_f64();
        let violations = count(report.violations.len());
        for class in &report.schedule.classes {
            let row = self.classes.entry(*class).or_default();
            row.schedules += 1;
            row.orders += count(report.approved);
            row.violations += violations;
            row.failed += u32::from(violations > 0);
        }
        for invariant in Invariant::ALL {
            let n = count(
                report
                    .violations
                    .iter()
                    .filter(|v| v.invariant == invariant)
                    .count(),
            );
            let entry = self.invariants.entry(invariant).or_default();
            entry.0 += n;
            entry.1 += u32::from(n > 0);
        }
        if let Some(first) = report.violations.first() {
            self.failed.push((report.schedule.seed, first.to_string()));
        }
    }

    /// Notes a seed whose world could not be started.
    pub fn error(&mut self, seed: u64, why: String) {
        self.errors.push((seed, why));
    }

    /// The tables, in markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} seeds, {} Orders approved, {} unsettled, {} seeds with a violation, {} not run; {:.0} s of seeds\n",
            self.seeds,
            self.orders,
            self.unsettled,
            self.failed.len(),
            self.errors.len(),
            self.seconds
        );
        let _ = writeln!(
            out,
            "| fault class | schedules | orders | violations | seeds failing |"
        );
        let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: |");
        for class in FaultClass::ALL {
            let row = self.classes.get(&class).copied().unwrap_or_default();
            let _ = writeln!(
                out,
                "| {class} | {} | {} | {} | {} |",
                row.schedules, row.orders, row.violations, row.failed
            );
        }
        let _ = writeln!(out, "\n| invariant | violations | seeds |");
        let _ = writeln!(out, "| --- | ---: | ---: |");
        for invariant in Invariant::ALL {
            let (n, seeds) = self.invariants.get(&invariant).copied().unwrap_or_default();
            let _ = writeln!(out, "| {invariant} | {n} | {seeds} |");
        }
        if !self.failed.is_empty() {
            let _ = writeln!(out, "\nfailing seeds (first violation):");
            for (seed, first) in self.failed.iter().take(40) {
                let _ = writeln!(out, "- {seed}: {first}");
            }
        }
        for (seed, why) in &self.errors {
            let _ = writeln!(out, "- seed {seed} not run: {why}");
        }
        out
    }
}
