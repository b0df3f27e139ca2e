namespace PostService.Tests.Infrastructure;

/// <summary>Locates the repository (the folder with PostService.sln) and the shared reference data beside it.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The <c>shared/</c> folder, a sibling of the repository root.</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PostService.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No PostService.sln above {AppContext.BaseDirectory}.");
    }
}
