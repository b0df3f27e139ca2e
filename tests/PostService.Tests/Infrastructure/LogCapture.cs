using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace PostService.Tests.Infrastructure;

/// <summary>One log line as the service wrote it, with the values of the scopes it was written in.</summary>
public sealed record CapturedLog(string Category, LogLevel Level, string Message, string? Exception, IReadOnlyDictionary<string, object?> Scope)
{
    public override string ToString() => $"{Level} {Category}: {Message} {{{string.Join(", ", Scope.Select(pair => $"{pair.Key}={pair.Value}"))}}}";
}

/// <summary>A logger provider that keeps every line in memory, scopes included, for tests that check what was logged.</summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<CapturedLog> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose() { }

    private sealed class CapturingLogger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => capture._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scope = new Dictionary<string, object?>();
            capture._scopes.ForEachScope((value, values) =>
            {
                if (value is IEnumerable<KeyValuePair<string, object?>> pairs)
                {
                    foreach (var (key, item) in pairs)
                    {
                        values[key] = item;
                    }
                }
            }, scope);
            capture._entries.Enqueue(new CapturedLog(category, logLevel, formatter(state, exception), exception?.ToString(), scope));
        }
    }
}
