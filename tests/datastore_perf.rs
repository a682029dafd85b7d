//! A throughput measurement of the data store on a synthetic, Poky-sized workload; run with
//! `cargo test --release --test datastore_perf -- --ignored --nocapture`.
//!
//! Configuration: 6,000 variables (values referring to others, chains of references),
//! 2,000 override variables, 1,500 `:append`s, 16 OVERRIDES; frozen into a snapshot. Then,
//! per recipe (1,878 of them, as Poky's variants), a store over that snapshot gets 1,500
//! statements (like the classes a recipe inherits) and every variable is read expanded.

use bitzel::eval::{AssignOp, Assignment, DataStore, Location};
use std::time::{Duration, Instant};

fn stmt(name: String, op: AssignOp, value: String) -> Assignment {
    Assignment {
        exported: false,
        name,
        flag: None,
        op,
        value,
    }
}

#[test]
#[ignore = "a measurement, not a check"]
fn datastore_throughput() {
    let loc = Location::new("/synthetic.conf", 1);
    let started = Instant::now();
    let mut config = DataStore::new();
    let overrides: Vec<String> = (0..16).map(|i| format!("ov{i}")).collect();
    config
        .assign(
            &stmt(
                "OVERRIDES".into(),
                AssignOp::Set,
                "${MACHINE_OV}:".to_string() + &overrides.join(":"),
            ),
            loc.clone(),
        )
        .unwrap();
    config
        .assign(
            &stmt("MACHINE_OV".into(), AssignOp::Set, "qemux86-64".into()),
            loc.clone(),
        )
        .unwrap();
    for i in 0..6000 {
        let value = match i % 4 {
            0 => format!("value{i} ${{V{}}}", i / 2),
            1 => format!("${{V{}}}/sub ${{V{}}} -O2 -pipe", i / 3, i / 5),
            2 => format!("word{i} other words here ${{UNSET_{i}}}"),
            _ => format!("${{@'x'}} v{i}"),
        };
        let op = if i % 7 == 0 {
            AssignOp::WeakDefault
        } else {
            AssignOp::Set
        };
        config
            .assign(&stmt(format!("V{i}"), op, value), loc.clone())
            .unwrap();
    }
    for i in 0..2000 {
        let o = &overrides[i % overrides.len()];
        config
            .assign(
                &stmt(format!("V{}:{o}", i * 3), AssignOp::Set, format!("over{i}")),
                loc.clone(),
            )
            .unwrap();
    }
    for i in 0..1500 {
        let o = &overrides[i % overrides.len()];
        config
            .assign(
                &stmt(
                    format!("V{}:append:{o}", i * 4),
                    AssignOp::Set,
                    format!(" app{i}"),
                ),
                loc.clone(),
            )
            .unwrap();
    }
    let base = config.snapshot();
    let config_time = started.elapsed();

    let started = Instant::now();
    let mut reads = 0usize;
    let (mut t_assign, mut t_keys, mut t_read) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut bytes = 0usize;
    let recipes: u32 = std::env::var("PERF_RECIPES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1878);
    for r in 0..recipes as usize {
        let mut recipe = DataStore::from_snapshot(base.clone());
        recipe
            .assign(
                &stmt("PN".into(), AssignOp::Set, format!("recipe{r}")),
                loc.clone(),
            )
            .unwrap();
        let t0 = Instant::now();
        for i in 0..1500 {
            let name = format!("V{}", (i * 7 + r) % 6000);
            let (name, op, value) = match i % 6 {
                0 => (name, AssignOp::Append, "${PN}-extra".to_string()),
                1 => (
                    format!("{name}:append"),
                    AssignOp::Set,
                    " ${PN}".to_string(),
                ),
                2 => (name, AssignOp::Default, "soft".to_string()),
                3 => (
                    format!("R{i}"),
                    AssignOp::Set,
                    format!("${{V{}}} ${{PN}}", i % 6000),
                ),
                4 => (format!("{name}:remove"), AssignOp::Set, "words".to_string()),
                _ => (format!("{name}:ov3"), AssignOp::Set, "${PN}".to_string()),
            };
            recipe.assign(&stmt(name, op, value), loc.clone()).unwrap();
        }
        let t1 = Instant::now();
        let keys = recipe.keys().unwrap();
        let t2 = Instant::now();
        for key in keys {
            if let Some(v) = recipe.get_var(&key, true).unwrap() {
                bytes += v.len();
            }
            reads += 1;
        }
        t_assign += t1 - t0;
        t_keys += t2 - t1;
        t_read += t2.elapsed();
    }
    eprintln!("statements {t_assign:?}, keys {t_keys:?}, reads {t_read:?}");
    let recipes_time = started.elapsed();
    eprintln!(
        "configuration: {config_time:?}; {recipes} recipes: {recipes_time:?} ({:?} per recipe), {reads} expanded reads, {bytes} bytes",
        recipes_time / recipes
    );
}
