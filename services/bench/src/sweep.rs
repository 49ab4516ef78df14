//! The client sweep: IssueStock over gRPC at 1, 2, 4, ... 64 clients on
//! each engine named, one fresh database per engine, throughput and p99 at
//! each step, the process's memory, and a PNG chart of both against the
//! number of clients drawn by this program.

use plotters::prelude::*;

/// One measured step.
#[derive(Clone, Debug)]
pub(crate) struct Point {
    pub(crate) clients: usize,
    pub(crate) tps: f64,
    pub(crate) p99_ms: f64,
    pub(crate) rss_mb: f64,
}

/// The process's resident memory now and at its peak, in MiB (Linux).
pub(crate) fn rss_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// Draws throughput (left) and p99 latency (right) against clients, one
/// line per engine, into `path`.
pub(crate) fn chart(path: &str, series: &[(String, Vec<Point>)]) -> anyhow::Result<()> {
    let font = std::fs::read(FONT)
        .map_err(|e| anyhow::anyhow!("{FONT}: {e} (install fonts-dejavu-core for the chart)"))?;
    let font: &'static [u8] = Box::leak(font.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, font)
        .map_err(|_| anyhow::anyhow!("{FONT} is not a usable font"))?;
    let root = BitMapBackend::new(path, (1200, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(600);
    let max_clients = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|p| p.clients))
        .max()
        .unwrap_or(64) as f64;
    let max_tps = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|p| p.tps))
        .fold(1.0, f64::max)
        * 1.1;
    let max_p99 = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|p| p.p99_ms))
        .fold(1.0, f64::max)
        * 1.1;
    let colours = [RED, BLUE, GREEN, MAGENTA];
    let x_range = (1.0f64..max_clients).log_scale();

    let mut tps = ChartBuilder::on(&left)
        .caption("IssueStock over gRPC: movements/s", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range.clone(), 0.0..max_tps)?;
    tps.configure_mesh()
        .x_desc("clients")
        .y_desc("movements/s")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    for (i, (name, points)) in series.iter().enumerate() {
        let c = colours[i % colours.len()];
        tps.draw_series(LineSeries::new(
            points.iter().map(|p| (p.clients as f64, p.tps)),
            c.stroke_width(2),
        ))?
        .label(name.clone())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        tps.draw_series(
            points
                .iter()
                .map(|p| Circle::new((p.clients as f64, p.tps), 4, c.filled())),
        )?;
    }
    tps.configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;

    let mut lat = ChartBuilder::on(&right)
        .caption("p99 latency, ms", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range, 0.0..max_p99)?;
    lat.configure_mesh()
        .x_desc("clients")
        .y_desc("p99 ms")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    for (i, (name, points)) in series.iter().enumerate() {
        let c = colours[i % colours.len()];
        lat.draw_series(LineSeries::new(
            points.iter().map(|p| (p.clients as f64, p.p99_ms)),
            c.stroke_width(2),
        ))?
        .label(name.clone())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        lat.draw_series(
            points
                .iter()
                .map(|p| Circle::new((p.clients as f64, p.p99_ms), 4, c.filled())),
        )?;
    }
    lat.configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}
