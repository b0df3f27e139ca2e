namespace PostService.Tests.Infrastructure;

public static class RepositoryPaths
{
    /// <summary>The folder holding PostService.sln, found by walking up from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The shared/ folder beside the repository, with the atproto lexicons and samples.</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PostService.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("PostService.sln not found above " + AppContext.BaseDirectory);
    }
}
