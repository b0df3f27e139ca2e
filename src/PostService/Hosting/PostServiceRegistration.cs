using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using PostService.Backfill;
using PostService.Engagements;
using PostService.Analytics;
using PostService.FeedRequests;
using PostService.Firehose;
using PostService.Hydration;
using PostService.Identity;
using PostService.Ingestion;
using PostService.Media;
using PostService.Posts;
using PostService.Security;
using PostService.Storage;
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
        // The console's format is the standard Logging:Console:FormatterName (simple, json, systemd), so that
        // Logging__Console__FormatterName=json works; PostService:Api:JsonLogs is a shorthand for it. Both formats
        // show scopes: they carry each request's correlation id.
        builder.Services.Configure<SimpleConsoleFormatterOptions>(options => options.IncludeScopes = true);
        builder.Services.Configure<JsonConsoleFormatterOptions>(options => options.IncludeScopes = true);
        // A formatter must be named: without a name the console logger copies its own obsolete options over the formatter's.
        builder.Services.Configure<ConsoleLoggerOptions>(options =>
            options.FormatterName = apiOptions.JsonLogs ? ConsoleFormatterNames.Json : options.FormatterName ?? ConsoleFormatterNames.Simple);

        // Port 5080 unless ASPNETCORE_URLS, --urls or Kestrel endpoints say otherwise (a "Urls" in appsettings.json
        // would override the environment variable, so the default lives here).
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]) && !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls("http://localhost:5080");
        }
        builder.Services.AddPostServiceCore(builder.Configuration);
        builder.Services.AddHydrationWorker(builder.Configuration);
        builder.Services.AddRepoBackfillWorker(builder.Configuration);
        builder.Services.AddFirehoseWorker(builder.Configuration);
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
        }).AddApiKeySecurity().AddServiceContract());
        return builder;
    }

    /// <summary>What the service and the CLI share: database, migrations, repositories, hydration.</summary>
    public static IServiceCollection AddPostServiceCore(this IServiceCollection services, IConfiguration configuration)
    {
        // Columns are snake_case, properties PascalCase.
        DefaultTypeMap.MatchNamesWithUnderscores = true;

        services.TryAddSingleton(TimeProvider.System);
        services.AddStorage(configuration);
        services.AddOptions<HydrationOptions>().Bind(configuration.GetSection(HydrationOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PrivacyOptions>().Bind(configuration.GetSection(PrivacyOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton<PostsRepository>();
        services.AddSingleton<FeedRequestsRepository>();
        services.AddSingleton<HydrationQueue>();
        services.AddSingleton<HydrationRepository>();
        services.AddSingleton<HydrationRunsRepository>();
        services.AddSingleton<CoverageQueries>();
        services.AddPerStore<IPostCountsFold, SqlitePostCountsFold, PostgresPostCountsFold>(configuration);
        services.AddSingleton<HydrationMetrics>();
        services.AddSingleton<RetrySchedule>();
        services.AddSingleton<RefreshSchedule>();
        services.AddSingleton<RefreshScheduler>();
        services.AddSingleton<OutageDetector>();
        services.AddSingleton<AppViewPause>();
        services.AddSingleton<ClaimLeases>();
        services.AddSingleton<CallsInFlight>();
        services.AddSingleton<HintBatches>();
        services.AddSingleton<OutcomeWriter>();
        services.AddSingleton<BatchHydrator>();
        services.AddSingleton<BatchDispatcher>();
        services.AddSingleton<HydrationEngine>();
        services.AddSingleton<HydrationCoordinator>();
        services.AddAppViewClient(configuration);
        services.AddIdentity(configuration);
        services.AddRepoBackfill(configuration);
        services.AddSingleton<EngagementsRepository>();
        services.AddFirehose(configuration);
        // One name per process in the claims and the shared call log, also when none is configured.
        services.AddOptions<RateBudgetOptions>().Configure<IOptions<HydrationOptions>>((budget, hydration) => budget.ReplicaId = hydration.Value.ReplicaId);
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
            services.AddNotFoundExplanationWorker();
        }
        return services;
    }

    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        // Numbers are numbers, in both directions (the web default also reads them from strings, and the OpenAPI
        // document then types every integer as "integer or string").
        options.NumberHandling = JsonNumberHandling.Strict;
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
