using Microsoft.Extensions.Logging;

namespace CodeFormer.Cli.Output;

/// <summary>
/// The engine's log as the CLI has always printed its notices: one plain line per message on stderr (stdout stays
/// for results), warnings marked as such. Debug and trace messages are dropped.
/// </summary>
internal sealed class StderrLogger<T>(TextWriter? error = null) : ILogger<T>
{
    private readonly TextWriter _error = error ?? Console.Error;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }
        string message = formatter(state, exception);
        _error.WriteLine(logLevel >= LogLevel.Warning ? $"warning: {message}" : message);
    }
}
