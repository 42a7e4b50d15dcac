//! A download progress bar (indicatif) for the sync's progress hooks; hidden when stderr is
//! not a terminal, so pipes and cron logs stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::mirror::Progress;

pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    pub fn new(quiet: bool) -> Bar {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
            )
            .expect("valid template"),
        );
        Bar { bar }
    }
}

impl Progress for Bar {
    fn start(&self, _files: u64, bytes: u64) {
        self.bar.set_length(bytes);
    }
    fn file(&self, _folder: &str, name: &str) {
        self.bar.set_message(name.to_string());
    }
    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
