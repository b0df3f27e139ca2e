using System.CommandLine;
using Microsoft.Extensions.Options;
using PostService.Firehose;

namespace PostService.Cli;

/// <summary>
/// <c>firehose [--db path] [--url U] [--cursor N | --resume] [--days D] [--stop-when-live]</c>: the consumer in the
/// foreground, with a live display, after the pending migrations. Without <c>--cursor</c> it resumes from the URL's
/// checkpoint when there is one (<c>--resume</c> insists on one), else starts live. Ctrl+C stops it; what was not
/// committed is read again from the checkpoint next time.
/// </summary>
internal static class FirehoseCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var database = PostServiceCli.DatabaseOption();
        var url = new Option<string?>("--url") { Description = "A relay or PDS (ws:// or wss://). Default: PostService:Firehose:Url, wss://bsky.network." };
        var cursor = new Option<long?>("--cursor") { Description = "Start after this seq; 0 is the oldest event the server keeps." };
        var resume = new Option<bool>("--resume") { Description = "Continue from the URL's checkpoint; fail when there is none." };
        var days = new Option<double?>("--days") { Description = "Start from the oldest event the server keeps and apply those of the last D days." };
        var stopWhenLive = new Option<bool>("--stop-when-live") { Description = "Stop once caught up with live." };
        var command = new Command("firehose", "Consume a subscribeRepos firehose in the foreground, with a live display.")
        {
            database, url, cursor, resume, days, stopWhenLive,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(cursor) is not null && result.GetValue(resume))
            {
                result.AddError("--cursor and --resume cannot be used together.");
            }
            if (result.GetValue(cursor) is < 0)
            {
                result.AddError("--cursor must be 0 or more.");
            }
            if (result.GetValue(days) is <= 0)
            {
                result.AddError("--days must be a positive number of days.");
            }
        });
        command.SetAction(PostServiceCli.Verb(environment, (parse, cancellationToken) => RunAsync(
            parse.GetValue(database)?.FullName, parse.GetValue(url), parse.GetValue(cursor), parse.GetValue(resume), parse.GetValue(days),
            parse.GetValue(stopWhenLive), environment, cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(
        string? database, string? url, long? cursor, bool resume, double? days, bool stopWhenLive, CliEnvironment environment, CancellationToken cancellationToken)
    {
        // From when the command was given, not from when the database was ready.
        var notBefore = days is { } d ? DateTimeOffset.UtcNow.AddDays(-d) : (DateTimeOffset?)null;
        using var verb = await ForegroundVerb.StartAsync(database, environment, cancellationToken);
        var (host, store, stop) = (verb.Host, verb.Store, verb.Stopping);
        var source = FirehoseConsumer.SubscribeUrl(url ?? host.Services.GetRequiredService<IOptions<FirehoseOptions>>().Value.Url);
        if (resume && await host.Services.GetRequiredService<FirehoseStore>().CursorAsync(source, stop) is null)
        {
            throw new CliUsageException($"--resume: {store} has no checkpoint for {source}.");
        }

        var consumer = host.Services.GetRequiredService<FirehoseConsumer>();
        await environment.Output.WriteLineAsync($"Consuming {source} into {store}{(stopWhenLive ? " until live" : "")}; Ctrl+C stops.");
        var running = consumer.RunAsync(new FirehoseRunSpec(source, cursor, notBefore, stopWhenLive), stop);
        await FirehoseProgress.FollowAsync(environment, consumer.Status, host.Services.GetRequiredService<FirehoseStore>(), running);
        try
        {
            await running;
        }
        catch (OperationCanceledException) when (verb.StopRequested)
        {
            await environment.Output.WriteLineAsync($"Stopped at cursor {consumer.Status.Cursor}; --resume continues from the checkpoint.");
            return ExitCodes.Cancelled;
        }
        await environment.Output.WriteLineAsync($"Live at cursor {consumer.Status.Cursor}: {consumer.Status.EventsApplied:N0} events applied.");
        return ExitCodes.Ok;
    }
}
