//! The open-file limit: every connection is a file descriptor, and an open loop against a
//! slow platform holds up to its in-flight bound of them.

use scenarios::HttpProtocol;

use crate::ReplayOptions;

/// Descriptors kept for everything else: logs, the runtime, the terminal.
const SPARE: u64 = 256;

/// Raises the soft limit on open files to what the run may need, up to the hard limit.
/// Returns a warning when even the hard limit is too low.
pub(crate) fn raise_open_files(options: &ReplayOptions, workers: usize) -> Result<(), String> {
    let needed = SPARE
        + match (options.request.protocol, options.request.connections) {
            (_, Some(connections)) => connections as u64,
            (HttpProtocol::H2c, None) => workers as u64,
            (HttpProtocol::Http1, None) => options.load.max_in_flight() as u64,
        };
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit to write into.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Ok(());
    }
    if limit.rlim_cur >= needed {
        return Ok(());
    }
    let raised = libc::rlimit {
        rlim_cur: needed.min(limit.rlim_max),
        rlim_max: limit.rlim_max,
    };
    // SAFETY: `raised` is a valid rlimit within the hard limit.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) };
    if raised.rlim_cur < needed {
        return Err(format!(
            "up to {needed} connections may be open but the open-file limit is {}; raise it (ulimit -n) or lower [load] max_in_flight / [request] connections",
            limit.rlim_max
        ));
    }
    Ok(())
}
