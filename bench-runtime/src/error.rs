/// Why a function could not be deployed. Each variant names the function.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("function `{function}`: {message}")]
    InvalidModule { function: String, message: String },
    #[error("function `{function}`: unknown built-in guest `{guest}`; expected one of: {known}")]
    UnknownGuest {
        function: String,
        guest: String,
        known: String,
    },
    #[error("function `{function}`: cannot read module {path}: {source}")]
    ReadModule {
        function: String,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("function `{function}`: {field} {message}")]
    InvalidConfig {
        function: String,
        field: &'static str,
        message: String,
    },
}

/// Why an invocation produced no output. Each variant names the function.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("unknown function `{0}`")]
    UnknownFunction(String),
    /// The guest trapped while handling the request; the instance was discarded.
    #[error("function `{function}` trapped: {message}")]
    Trap {
        function: String,
        message: String,
        /// The work done before the trap, billed like any other invocation.
        metering: crate::Metering,
    },
    /// A new instance could not be started (instantiation or `init` failed).
    #[error("function `{function}` failed to start: {message}")]
    StartFailed { function: String, message: String },
}

/// The engine could not be created with the given configuration.
#[derive(Debug, thiserror::Error)]
#[error("cannot create the WebAssembly engine: {0}")]
pub struct EngineError(pub String);
