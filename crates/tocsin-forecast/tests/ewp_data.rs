//! Tests on the Early Warning Project's files in `../shared/data/ewp/` (beside the
//! repository). Each test prints a message and passes when the files are absent.
//!
//! The full 31-window backtest runs only in release builds
//! (`cargo test --release -p tocsin-forecast -- --nocapture`, about half a minute on two
//! cores); a debug build (`cargo test --workspace`) runs a two-window smoke backtest with
//! lighter settings instead.

use std::collections::HashSet;
use std::path::PathBuf;
use tocsin_forecast::backtest::{
    align, backtest, read_published, score_published, BacktestConfig, ForecastTable,
};
use tocsin_forecast::data::{Dataset, PREDICTORS_2025};
use tocsin_forecast::enet::ElasticNetConfig;
use tocsin_forecast::gbt::GbtConfig;
use tocsin_forecast::model::ModelConfig;

fn ewp_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ewp");
    if dir.join("prepared2024predictors-2025-09-03.csv").exists()
        && dir.join("FOOSforecasts_3Sep2025.csv").exists()
    {
        Some(dir)
    } else {
        assert_ne!(
            std::env::var("TOCSIN_REQUIRE_DATA").as_deref(),
            Ok("1"),
            "TOCSIN_REQUIRE_DATA=1 but the Early Warning Project files are not in {}",
            dir.display()
        );
        println!(
            "SKIPPED: the Early Warning Project files are not in {} (../shared/data relative to \
             the repository root)",
            dir.display()
        );
        None
    }
}

fn data(dir: &std::path::Path) -> Dataset {
    Dataset::load(dir.join("prepared2024predictors-2025-09-03.csv")).expect("loads")
}

#[test]
fn loader_finds_the_projects_39_predictors() {
    let Some(dir) = ewp_dir() else { return };
    let ds = data(&dir);
    assert_eq!(ds.len(), 9463);
    assert_eq!(ds.year_range(), (1960, 2024));
    let got: HashSet<&str> = ds.predictors.iter().map(String::as_str).collect();
    let want: HashSet<&str> = PREDICTORS_2025.iter().copied().collect();
    assert_eq!(got, want);
    assert_eq!(ds.predictors.len(), 39);
    // Missing predictors are few and confined to three columns.
    let incomplete = (0..ds.len()).filter(|&i| !ds.complete(i)).count();
    assert!(incomplete > 0 && incomplete < 200, "{incomplete}");
    assert_eq!(
        ds.mk_onset.iter().filter(|o| **o == Some(true)).count(),
        122
    );
}

#[test]
fn published_forecasts_score_as_the_project_reports() {
    let Some(dir) = ewp_dir() else { return };
    let cfg = BacktestConfig::default();
    let s = score_published(dir.join("FOOSforecasts_3Sep2025.csv"), &cfg).unwrap();
    println!("{s}");
    assert_eq!(format!("{:.3}", s.auc), "0.825");
    assert_eq!((s.top, s.onsets), (27, 39));
    assert_eq!(s.rows, 5032);
    assert!((s.brier - 0.0086).abs() < 0.00005, "{}", s.brier);
}

/// Our alignment of forecasts to scored country-years picks exactly the rows the Project
/// scored: those of years 1994–2024 with a forecast from complete data of `Y − 1` or
/// `Y − 2`, the forecasts being made from data years 1993–2023.
#[test]
fn alignment_matches_the_published_rows() {
    let Some(dir) = ewp_dir() else { return };
    let ds = data(&dir);
    let cfg = BacktestConfig::default();
    let mut table = ForecastTable::new();
    for d in 1993..=2023 {
        for i in ds.forecast_rows(d) {
            // Encode the data year in the risk to check which forecast was kept.
            table.insert((ds.country[i].clone(), d), (f64::from(d), 1.0));
        }
    }
    let rows = align(&ds, &table, &cfg);
    let published = read_published(&dir.join("FOOSforecasts_3Sep2025.csv")).unwrap();
    let scored: Vec<_> = published.iter().filter(|p| p.2.is_some()).collect();
    assert_eq!(rows.len(), scored.len());
    assert_eq!(rows.iter().filter(|r| r.onset).count(), 39);
    // Key by key: the country-years we score are the ones with a published forecast.
    let mut ours = HashSet::new();
    for i in 0..ds.len() {
        let y = ds.year[i];
        if (1994..=2024).contains(&y)
            && (table.contains_key(&(ds.country[i].clone(), y - 1))
                || table.contains_key(&(ds.country[i].clone(), y - 2)))
        {
            ours.insert((ds.country[i].clone(), y));
        }
    }
    let theirs: HashSet<_> = scored.iter().map(|p| (p.1.clone(), p.0)).collect();
    assert_eq!(ours, theirs);
    // maxrisk2 keeps the later forecast when it is larger (here: always, by construction).
    assert!(rows.iter().all(|r| r.risk >= 1993.0));
}

#[test]
fn backtest_on_the_projects_data() {
    let Some(dir) = ewp_dir() else { return };
    let ds = data(&dir);
    let published = score_published(
        dir.join("FOOSforecasts_3Sep2025.csv"),
        &BacktestConfig::default(),
    )
    .unwrap();
    assert_eq!(format!("{:.3}", published.auc), "0.825");
    assert_eq!((published.top, published.onsets), (27, 39));
    let release = !cfg!(debug_assertions);
    let cfg = if release {
        BacktestConfig::default()
    } else {
        // Debug builds: two windows and light settings, to exercise the pipeline quickly.
        BacktestConfig {
            first_train_end: 2020,
            last_train_end: 2021,
            first_score_year: 2023,
            models: ModelConfig {
                enet: ElasticNetConfig {
                    n_lambda: 20,
                    n_folds: 3,
                    ..Default::default()
                },
                gbt: GbtConfig {
                    n_trees: 40,
                    cv_folds: 3,
                    ..ModelConfig::default().gbt
                },
                ..ModelConfig::default()
            },
            ..BacktestConfig::default()
        }
    };
    let report = backtest(&ds, &cfg).unwrap();
    if !release {
        println!("(debug build: 2-window smoke backtest scoring 2023–2024; run with --release for the full backtest)");
    }
    for s in &report.scores {
        println!("{s}");
    }
    println!("{published}");
    println!("backtest runtime {:.1} s", report.seconds);
    let tocsin = &report.scores[0];
    assert_eq!(tocsin.name, "tocsin");
    if release {
        assert_eq!(report.windows.len(), 31);
        assert_eq!((tocsin.rows, tocsin.onsets), (5032, 39));
        // Not a target, a floor: the ensemble must at least do what the Project's model does.
        assert!(tocsin.auc > 0.80, "{tocsin}");
    } else {
        assert!(tocsin.auc > 0.6, "{tocsin}");
    }
}

#[test]
fn run_ranks_countries_with_contributions() {
    let Some(dir) = ewp_dir() else { return };
    let ds = data(&dir);
    let cfg = ModelConfig {
        enet: ElasticNetConfig {
            n_lambda: 30,
            n_folds: 3,
            ..Default::default()
        },
        gbt: GbtConfig {
            n_trees: 60,
            cv_folds: 3,
            ..ModelConfig::default().gbt
        },
        ..ModelConfig::default()
    };
    let r = tocsin_forecast::run::run(&ds, 2024, &cfg).unwrap();
    assert_eq!(r.trained_through, 2022);
    assert_eq!(r.target_years, (2025, 2026));
    assert_eq!(r.results.len(), 168);
    assert_eq!(r.results[0].rank, 1);
    assert!(r.results.windows(2).all(|w| w[0].risk >= w[1].risk));
    for c in &r.results {
        // Contributions add up to the elastic net's log-odds.
        let logit = (c.elastic_net / (1.0 - c.elastic_net)).ln();
        let sum: f64 =
            c.contributions.iter().map(|k| k.contribution).sum::<f64>() + r.intercept_std;
        assert!(
            (sum - logit).abs() < 1e-6,
            "{}: {sum} vs {logit}",
            c.country
        );
        assert!(c
            .contributions
            .windows(2)
            .all(|w| w[0].contribution.abs() >= w[1].contribution.abs()));
    }
    let mut text = Vec::new();
    tocsin_forecast::cli::write_run(&r, 10, 3, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    println!("{text}");
    assert_eq!(text.lines().count(), 13);
}
