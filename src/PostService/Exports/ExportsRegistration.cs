namespace PostService.Exports;

public static class ExportsRegistration
{
    /// <summary>The exporter and its options; the web service and the <c>export</c> verb both use it.</summary>
    public static IServiceCollection AddExports(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ExportOptions>().Bind(configuration.GetSection(ExportOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<Exporter>();
        return services;
    }
}
