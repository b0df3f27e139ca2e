namespace PostService.Upstream.AppView;

/// <summary>Where and how patiently the service talks to the Bluesky AppView.</summary>
public sealed class AppViewOptions : UpstreamOptions
{
    public const string Section = "PostService:AppView";

    public AppViewOptions() => BaseUrl = "https://public.api.bsky.app";
}
