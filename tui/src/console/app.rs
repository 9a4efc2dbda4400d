//! [`App`]: the console's interactive state (view, time scale, pause, help) around a
//! [`ConsoleState`], and key handling as pure functions of it (tested without a terminal).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use weir_engine::MetricsSnapshot;
use weir_workloads::job::RunSpec;

use super::state::ConsoleState;
use super::theme::Theme;

/// Time scales of the charts, seconds; `+` moves left (zoom in), `-` right (zoom out).
pub const TIME_SCALES_S: [u64; 7] = [5, 10, 30, 60, 120, 300, 600];
/// The default time scale's index in [`TIME_SCALES_S`] (30 s).
pub const DEFAULT_SCALE_INDEX: usize = 2;

/// The console's views, cycled with Tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// Everything at a glance.
    Overview,
    /// Per-worker rates and time split, and the exchange heat map.
    Workers,
    /// The latency histogram and the watermark lag.
    Latency,
    /// The operators and exchanges as a graph, and the bottleneck.
    Dataflow,
}

impl View {
    /// Every view, in Tab order.
    pub const ALL: [View; 4] = [View::Overview, View::Workers, View::Latency, View::Dataflow];

    /// The view's name as shown in the key hints.
    pub fn name(self) -> &'static str {
        match self {
            View::Overview => "overview",
            View::Workers => "workers",
            View::Latency => "latency",
            View::Dataflow => "dataflow",
        }
    }

    fn index(self) -> usize {
        View::ALL
            .iter()
            .position(|v| *v == self)
            .expect("every view is in ALL")
    }
}

/// What the UI loop should do after a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOutcome {
    /// The key changed nothing.
    Ignored,
    /// The view changed: redraw.
    Redraw,
    /// The user asked to stop the job (the summary is still printed).
    Quit,
}

/// The interactive console: live state, an optional frozen copy while paused, and view
/// settings.
#[derive(Clone, Debug)]
pub struct App {
    live: ConsoleState,
    frozen: Option<Box<ConsoleState>>,
    view: View,
    scale_index: usize,
    help: bool,
    quit: bool,
    theme: Theme,
}

impl App {
    /// A console for a job started from `spec`.
    pub fn new(spec: RunSpec, theme: Theme) -> Self {
        Self {
            live: ConsoleState::new(spec),
            frozen: None,
            view: View::Overview,
            scale_index: DEFAULT_SCALE_INDEX,
            help: false,
            quit: false,
            theme,
        }
    }

    /// Takes in the job's latest snapshot. The job's history keeps growing while paused; only
    /// the view is frozen.
    pub fn ingest(&mut self, snapshot: MetricsSnapshot) -> bool {
        self.live.ingest(snapshot)
    }

    /// The state the screen shows: the frozen copy while paused, else the live one.
    pub fn shown(&self) -> &ConsoleState {
        self.frozen.as_deref().unwrap_or(&self.live)
    }

    /// The live state, whatever the view shows.
    pub fn live(&self) -> &ConsoleState {
        &self.live
    }

    /// The current view.
    pub fn view(&self) -> View {
        self.view
    }

    /// The current chart time scale, seconds.
    pub fn scale_s(&self) -> u64 {
        TIME_SCALES_S[self.scale_index]
    }

    /// Whether the view is frozen.
    pub fn paused(&self) -> bool {
        self.frozen.is_some()
    }

    /// Whether the help overlay is open.
    pub fn help(&self) -> bool {
        self.help
    }

    /// Whether the user asked to quit.
    pub fn quit_requested(&self) -> bool {
        self.quit
    }

    /// The colours and symbols in use.
    pub fn theme(&self) -> &Theme {
        &self.theme
    }

    /// Records a quit request from outside the keyboard (SIGINT).
    pub fn request_quit(&mut self) {
        self.quit = true;
    }

    /// Applies one key event.
    pub fn handle_key(&mut self, key: KeyEvent) -> KeyOutcome {
        if key.kind == KeyEventKind::Release {
            return KeyOutcome::Ignored;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c' | 'C') if ctrl => self.quit_outcome(),
            _ if ctrl => KeyOutcome::Ignored,
            KeyCode::Char('q' | 'Q') => self.quit_outcome(),
            KeyCode::Esc if self.help => {
                self.help = false;
                KeyOutcome::Redraw
            }
            KeyCode::Char('?' | 'h') => {
                self.help = !self.help;
                KeyOutcome::Redraw
            }
            KeyCode::Char('p' | 'P' | ' ') => {
                self.frozen = match self.frozen.take() {
                    Some(_) => None,
                    None => Some(Box::new(self.live.clone())),
                };
                KeyOutcome::Redraw
            }
            KeyCode::Tab => self.set_view(View::ALL[(self.view.index() + 1) % View::ALL.len()]),
            KeyCode::BackTab => self
                .set_view(View::ALL[(self.view.index() + View::ALL.len() - 1) % View::ALL.len()]),
            KeyCode::Char('1') => self.set_view(View::Overview),
            KeyCode::Char('2') => self.set_view(View::Workers),
            KeyCode::Char('3') => self.set_view(View::Latency),
            KeyCode::Char('4') => self.set_view(View::Dataflow),
            KeyCode::Char('+' | '=') => self.set_scale(self.scale_index.saturating_sub(1)),
            KeyCode::Char('-' | '_') => {
                self.set_scale((self.scale_index + 1).min(TIME_SCALES_S.len() - 1))
            }
            _ => KeyOutcome::Ignored,
        }
    }

    fn quit_outcome(&mut self) -> KeyOutcome {
        self.quit = true;
        KeyOutcome::Quit
    }

    fn set_view(&mut self, view: View) -> KeyOutcome {
        self.view = view;
        KeyOutcome::Redraw
    }

    fn set_scale(&mut self, index: usize) -> KeyOutcome {
        if index == self.scale_index {
            return KeyOutcome::Ignored;
        }
        self.scale_index = index;
        KeyOutcome::Redraw
    }
}
