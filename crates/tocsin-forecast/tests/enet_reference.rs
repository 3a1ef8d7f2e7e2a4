//! The elastic net agrees with scikit-learn on a small problem (fixture written by
//! `scripts/reference.py`, which also checks scikit-learn against an independent solver).

use tocsin_forecast::data::Matrix;
use tocsin_forecast::enet::fit_lambda;

#[test]
fn elastic_net_matches_scikit_learn_to_1e_4() {
    let text = include_str!("fixtures/enet_reference.json");
    let v: serde_json::Value = serde_json::from_str(text).expect("fixture is JSON");
    let rows: Vec<Vec<f64>> = serde_json::from_value(v["x"].clone()).unwrap();
    let y: Vec<f64> = serde_json::from_value(v["y"].clone()).unwrap();
    let x = Matrix::from_rows(&rows).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 4);
    let mut worst = 0.0f64;
    let mut zeros = 0;
    for c in cases {
        let alpha = c["alpha"].as_f64().unwrap();
        let lambda = c["lambda"].as_f64().unwrap();
        let want_std: Vec<f64> = serde_json::from_value(c["coef_std"].clone()).unwrap();
        let want: Vec<f64> = serde_json::from_value(c["coef"].clone()).unwrap();
        let m = fit_lambda(&x, &y, alpha, lambda, 1e-24).unwrap();
        let mut diffs = vec![
            (m.intercept_std - c["intercept_std"].as_f64().unwrap()).abs(),
            (m.intercept - c["intercept"].as_f64().unwrap()).abs(),
        ];
        for j in 0..want.len() {
            diffs.push((m.coef_std[j] - want_std[j]).abs());
            diffs.push((m.coef[j] - want[j]).abs());
            // Exact zeros agree too.
            assert_eq!(
                m.coef_std[j] == 0.0,
                want_std[j] == 0.0,
                "alpha {alpha} lambda {lambda} j {j}"
            );
            zeros += usize::from(want_std[j] == 0.0);
        }
        let d = diffs.iter().copied().fold(0.0, f64::max);
        println!("alpha={alpha} lambda={lambda}: max |difference| {d:.2e}");
        assert!(d < 1e-4, "alpha {alpha} lambda {lambda}: {d}");
        worst = worst.max(d);
    }
    assert!(zeros > 0, "the fixture should exercise exact zeros");
    println!("worst difference from scikit-learn: {worst:.2e}");
}
