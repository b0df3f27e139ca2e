using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PostService.Analytics;
using PostService.FeedRequests;
using PostService.Hydration;
using PostService.Ingestion;
using PostService.Media;
using PostService.Posts;
using PostService.Security;
using PostService.Storage;
using PostService.Storage.Migrations;
using PostService.Tagging;
using PostService.Upstream.AppView;
using PostService.Upstream.Budget;

namespace PostService.Hosting;

public static class PostServiceRegistration
{
    /// <summary>Everything the service needs: options, database, ingestion, hydration, HTTP conventions.</summary>
    public static WebApplicationBuilder AddPostService(this WebApplicationBuilder builder)
    {
        var apiOptions = builder.Configuration.GetSection(ApiOptions.Section).Get<ApiOptions>() ?? new ApiOptions();
        // With scopes: they carry each request's correlation id.
        if (apiOptions.JsonLogs)
        {
            builder.Logging.ClearProviders().AddJsonConsole(options => options.IncludeScopes = true);
        }
        else
        {
            builder.Logging.AddSimpleConsole(options => options.IncludeScopes = true);
        }

        // Port 5080 unless ASPNETCORE_URLS, --urls or Kestrel endpoints say otherwise (a "Urls" in appsettings.json
        // would override the environment variable, so the default lives here).
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]) && !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls("http://localhost:5080");
        }
        builder.Services.AddPostServiceCore(builder.Configuration);
        builder.Services.AddHydrationWorker(builder.Configuration);
        builder.Services.AddOptions<ApiOptions>().Bind(builder.Configuration.GetSection(ApiOptions.Section));
        builder.Services.AddIngestion(builder.Configuration);
        builder.Services.AddHostedService<IngestEventLogPruner>();
        builder.Services.AddHostedService<HashtagStatsRefresher>();
        builder.Services.AddOptions<ShutdownOptions>().Bind(builder.Configuration.GetSection(ShutdownOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<ShutdownOptions>>(
            (host, shutdown) => host.ShutdownTimeout = TimeSpan.FromSeconds(shutdown.Value.GracePeriodSeconds));
        builder.AddPostServiceSecurity();

        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions[CorrelationId.ProblemMember] = CorrelationId.Of(context.HttpContext));
        builder.Services.ConfigureHttpJsonOptions(options => ConfigureJson(options.SerializerOptions));
        builder.Services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "PostService";
            document.Info.Description = "Stores the posts Bluesky feed generators served, and who wrote them.";
            // No server list: the document must not depend on the address the service listens on.
            document.Servers = [];
            return Task.CompletedTask;
        }).AddApiKeySecurity());
        return builder;
    }

    /// <summary>What the service and the CLI share: database, migrations, repositories, hydration.</summary>
    public static IServiceCollection AddPostServiceCore(this IServiceCollection services, IConfiguration configuration)
    {
        // Columns are snake_case, properties PascalCase.
        DefaultTypeMap.MatchNamesWithUnderscores = true;

        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<DatabaseOptions>().Bind(configuration.GetSection(DatabaseOptions.Section))
            .Configure(options => options.ConnectionString ??= configuration.GetConnectionString(DatabaseOptions.ConnectionStringName))
            .ValidateDataAnnotations()
            .Validate(options => options.Provider != DatabaseProvider.Postgres || !string.IsNullOrWhiteSpace(options.ConnectionString),
                $"PostService:Database:Provider is Postgres but no connection string is set: set ConnectionStrings__{DatabaseOptions.ConnectionStringName}.")
            .ValidateOnStart();
        services.AddOptions<HydrationOptions>().Bind(configuration.GetSection(HydrationOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();

        var provider = configuration.GetSection(DatabaseOptions.Section).GetValue(nameof(DatabaseOptions.Provider), DatabaseProvider.Sqlite);
        if (provider == DatabaseProvider.Postgres)
        {
            services.AddSingleton<IDbConnectionFactory, PostgresConnectionFactory>();
            services.AddSingleton<AppViewCallLog>();
        }
        else
        {
            services.AddSingleton<IDbConnectionFactory, SqliteConnectionFactory>();
        }
        services.AddSingleton(SqlDialect.For(provider));
        services.AddSingleton<IMigration, M001_CoreTables>();
        services.AddSingleton<IMigration, M002_HydrationColumns>();
        services.AddSingleton<IMigration, M003_PostsFromServedUris>();
        services.AddSingleton<IMigration, M004_FeedRequestsReceivedAt>();
        services.AddSingleton<IMigration, M005_RebuildFeedRequestPosts>();
        services.AddSingleton<IMigration, M006_PostCounts>();
        services.AddSingleton<IMigration, M007_HydrationClaims>();
        services.AddSingleton<IMigration, M011_Analytics>();
        services.AddSingleton<SqliteBackup>();
        services.AddSingleton<Migrator>();
        services.AddSingleton<LegacyAuthorColumns>();
        services.AddHostedService<DatabaseMigrationService>();
        services.AddSingleton<PostsRepository>();
        services.AddSingleton<FeedRequestsRepository>();
        services.AddSingleton<HydrationQueue>();
        services.AddSingleton<HydrationRepository>();
        services.AddSingleton<HydrationRunsRepository>();
        services.AddSingleton<CoverageQueries>();
        services.AddSingleton<RateBudget>();
        services.AddSingleton<HydrationMetrics>();
        services.AddSingleton<HydrationEngine>();
        services.AddSingleton<HydrationCoordinator>();
        services.AddAppViewClient(configuration);
        services.AddTagging(configuration);
        services.AddAnalytics(configuration);
        services.AddMedia();
        return services;
    }

    /// <summary>The background hydration worker, unless turned off by <c>PostService:Hydration:Enabled</c>.</summary>
    public static IServiceCollection AddHydrationWorker(this IServiceCollection services, IConfiguration configuration)
    {
        if (configuration.GetSection(HydrationOptions.Section).GetValue(nameof(HydrationOptions.Enabled), true))
        {
            services.AddHostedService<HydrationWorker>();
        }
        return services;
    }

    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
    }

    /// <summary>Correlation ids, problem details for every error, rate limits, and the API explorer where it is enabled.</summary>
    public static WebApplication UsePostServiceApi(this WebApplication app)
    {
        // First, so that the exception handler's log line and problem carry the id too.
        app.UseCorrelationId();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UsePostServiceSecurity();
        var apiOptions = app.Configuration.GetSection(ApiOptions.Section).Get<ApiOptions>() ?? new ApiOptions();
        if (apiOptions.EnableSwagger)
        {
            app.MapOpenApi();
            app.MapOpenApi("/openapi/{documentName}.yaml");
            app.UseSwaggerUI(options =>
            {
                options.SwaggerEndpoint("/openapi/v1.json", "PostService v1");
                options.DocumentTitle = "PostService API";
            });
        }
        return app;
    }
}
