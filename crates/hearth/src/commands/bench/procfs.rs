//! Reads a process's CPU time and memory from Linux's `/proc`, the only
//! way to measure the daemon from outside without instrumenting it.

use std::time::Duration;

use anyhow::{Context, Result, bail};

/// CPU time a process has used: user + system.
pub fn cpu_time(pid: u32) -> Result<Duration> {
    let path = format!("/proc/{pid}/stat");
    let line = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let ticks = parse_stat_cpu_ticks(&line)?;
    Ok(ticks_to_duration(ticks, clock_ticks_per_sec()))
}

/// The kernel's clock tick (`USER_HZ`), the unit of `/proc/<pid>/stat` times.
// The workspace denies unsafe code; this FFI call is the only way to ask.
#[allow(unsafe_code)]
pub fn clock_ticks_per_sec() -> u64 {
    // SAFETY: sysconf has no preconditions; it returns -1 on error.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    // 100 is USER_HZ on every Linux architecture should sysconf fail.
    u64::try_from(hz).ok().filter(|&hz| hz > 0).unwrap_or(100)
}

pub fn ticks_to_duration(ticks: u64, hz: u64) -> Duration {
    Duration::from_nanos(ticks.saturating_mul(1_000_000_000) / hz.max(1))
}

/// utime + stime (fields 14 and 15) of a `/proc/<pid>/stat` line, in ticks.
///
/// Field 2 is the executable name in parentheses and may itself contain
/// spaces and parentheses, so the fields are counted from the *last* `)`.
pub fn parse_stat_cpu_ticks(line: &str) -> Result<u64> {
    let Some(close) = line.rfind(')') else {
        bail!("malformed /proc stat line (no `)`): {line:?}");
    };
    // After ")" come fields 3 (state), 4, ...: field n is at index n - 3.
    let fields: Vec<&str> = line[close + 1..].split_whitespace().collect();
    let field = |n: usize| -> Result<u64> {
        let raw = fields
            .get(n - 3)
            .with_context(|| format!("/proc stat line has no field {n}: {line:?}"))?;
        raw.parse()
            .with_context(|| format!("/proc stat field {n} is not a number: {raw:?}"))
    };
    Ok(field(14)? + field(15)?)
}

/// Resident memory now and at its peak, in kB (VmRSS, VmHWM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Memory {
    pub rss_kb: u64,
    pub peak_kb: u64,
}

pub fn memory(pid: u32) -> Result<Memory> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    parse_status_memory(&text).with_context(|| format!("no VmRSS/VmHWM in {path}"))
}

/// VmRSS and VmHWM of a `/proc/<pid>/status` text ("VmRSS:   1234 kB").
pub fn parse_status_memory(text: &str) -> Option<Memory> {
    let kb = |key: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(key))?;
        line[key.len()..].split_whitespace().next()?.parse().ok()
    };
    Some(Memory {
        rss_kb: kb("VmRSS:")?,
        peak_kb: kb("VmHWM:")?,
    })
}

/// The 1-minute load average: context for figures on a shared machine.
pub fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_last_paren() {
        // A name with spaces and parentheses, as a process may set.
        let line = "4242 (hea rth) (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 \
                    250 75 0 0 20 0 3 0 12345 100000 2000 18446744073709551615";
        assert_eq!(parse_stat_cpu_ticks(line).unwrap(), 325);
        let plain = "1 (hearth) R 0 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 5 6 7";
        assert_eq!(parse_stat_cpu_ticks(plain).unwrap(), 10);
    }

    #[test]
    fn malformed_stat_lines_are_errors() {
        assert!(parse_stat_cpu_ticks("1 hearth R 0").is_err());
        assert!(parse_stat_cpu_ticks("1 (hearth) R 0 1").is_err());
        assert!(parse_stat_cpu_ticks("1 (h) R 0 1 1 0 -1 0 0 0 0 0 x 3").is_err());
    }

    #[test]
    fn ticks_convert_at_the_clock_rate() {
        assert_eq!(ticks_to_duration(250, 100), Duration::from_millis(2500));
        assert_eq!(ticks_to_duration(3, 1000), Duration::from_millis(3));
    }

    #[test]
    fn status_memory_reads_rss_and_peak() {
        let text = "Name:\thearth\nVmPeak:\t  99999 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   12288 kB\n";
        let memory = parse_status_memory(text).unwrap();
        assert_eq!(
            memory,
            Memory {
                rss_kb: 12288,
                peak_kb: 20480
            }
        );
        assert_eq!(parse_status_memory("Name:\tzombie\n"), None);
    }

    #[test]
    fn this_process_is_readable() {
        let pid = std::process::id();
        cpu_time(pid).unwrap();
        assert!(memory(pid).unwrap().rss_kb > 0);
    }
}
