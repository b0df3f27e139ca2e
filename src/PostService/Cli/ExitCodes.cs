namespace PostService.Cli;

/// <summary>The executable's exit codes, for scripts.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>Bad arguments, a missing file, or a failure such as a migration check that did not add up.</summary>
    public const int Failed = 1;

    /// <summary>The file still needs migrating (report), or there is nothing to roll back (migrate --rollback).</summary>
    public const int NotMigrated = 2;

    /// <summary>hydrate: calls were sent and not one was answered; see <see cref="HydrateCommand"/>.</summary>
    public const int AppViewUnreachable = 3;

    /// <summary>Stopped by Ctrl+C or SIGTERM, as shells report it (128 + SIGINT).</summary>
    public const int Cancelled = 130;
}
