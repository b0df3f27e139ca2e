using Microsoft.Extensions.DependencyInjection;
using PostService.Storage.Migrations;

namespace PostService.Tests.Infrastructure;

/// <summary>The schema steps the service registers, so that tests expecting "every step" follow new ones.</summary>
public static class MigrationSteps
{
    /// <summary>Their versions, in the order they run.</summary>
    public static IReadOnlyList<int> Versions { get; } = Load();

    private static int[] Load()
    {
        using var services = CoreServices.For(Path.Combine(Path.GetTempPath(), "migration-steps-unused.db"));
        return [.. services.GetServices<IMigration>().Select(step => step.Version).Order()];
    }
}
