using Xunit.Abstractions;
using Xunit.Sdk;

namespace PostService.Tests.Infrastructure;

// The same tests on each database: an abstract test class takes the provider, and one tiny class per provider runs them.
//
//   public abstract class PostsEndpointsTests(DatabaseProvider provider) : IDisposable
//   {
//       public sealed class OnSqlite() : PostsEndpointsTests(DatabaseProvider.Sqlite);
//       public sealed class OnPostgres() : PostsEndpointsTests(DatabaseProvider.Postgres), IRunsOnPostgres;
//       [DatabaseFact] public async Task APostCanBeReadByItsUri() { ... }
//   }
//
// The output then names PostsEndpointsTests+OnSqlite.APostCanBeReadByItsUri and ...+OnPostgres.APostCanBeReadByItsUri.

/// <summary>
/// Marks a test class whose tests need <see cref="PostgresServer"/>: its <see cref="DatabaseFactAttribute"/> and
/// <see cref="DatabaseTheoryAttribute"/> tests are reported as skipped, with the reason, when PostgreSQL is unavailable.
/// </summary>
public interface IRunsOnPostgres;

/// <summary>A fact that runs on the test class's database; skipped when that is PostgreSQL and it is unavailable.</summary>
[XunitTestCaseDiscoverer("PostService.Tests.Infrastructure." + nameof(DatabaseFactDiscoverer), "PostService.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class DatabaseFactAttribute : FactAttribute;

/// <summary>A theory that runs on the test class's database; skipped (as one test) when that is PostgreSQL and it is unavailable.</summary>
[XunitTestCaseDiscoverer("PostService.Tests.Infrastructure." + nameof(DatabaseTheoryDiscoverer), "PostService.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class DatabaseTheoryAttribute : TheoryAttribute;

public sealed class DatabaseFactDiscoverer(IMessageSink diagnosticMessageSink) : FactDiscoverer(diagnosticMessageSink)
{
    public override IEnumerable<IXunitTestCase> Discover(
        ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute) =>
        DatabaseTestCases.SkippedWhenUnavailable(DiagnosticMessageSink, discoveryOptions, testMethod, factAttribute)
        ?? base.Discover(discoveryOptions, testMethod, factAttribute);
}

public sealed class DatabaseTheoryDiscoverer(IMessageSink diagnosticMessageSink) : TheoryDiscoverer(diagnosticMessageSink)
{
    public override IEnumerable<IXunitTestCase> Discover(
        ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo theoryAttribute) =>
        DatabaseTestCases.SkippedWhenUnavailable(DiagnosticMessageSink, discoveryOptions, testMethod, theoryAttribute)
        ?? base.Discover(discoveryOptions, testMethod, theoryAttribute);
}

internal static class DatabaseTestCases
{
    /// <summary>
    /// One skipped test case carrying <see cref="PostgresServer.UnavailableReason"/> when the test class runs on an
    /// unavailable PostgreSQL, else null (discover as usual). An explicit <c>Skip</c> on the attribute wins.
    /// </summary>
    public static IXunitTestCase[]? SkippedWhenUnavailable(
        IMessageSink diagnosticMessageSink, ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo attribute)
    {
        if (attribute.GetNamedArgument<string>(nameof(FactAttribute.Skip)) is not null
            || !typeof(IRunsOnPostgres).IsAssignableFrom(testMethod.TestClass.Class.ToRuntimeType())
            || PostgresServer.UnavailableReason is not { } reason)
        {
            return null;
        }
        // Unlike a plain XunitTestCase, whose skip reason is re-read from the attribute, this one serializes its own.
        return
        [
            new XunitSkippedDataRowTestCase(
                diagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(),
                testMethod, reason),
        ];
    }
}
