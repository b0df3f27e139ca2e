using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PostService.Atproto;
using PostService.Tests.Infrastructure;
using PostService.Upstream.AppView;

namespace PostService.Tests.Upstream;

/// <summary>The AppView client against a real loopback <see cref="FakeAppView"/>, wired up through its DI registration.</summary>
public sealed class AppViewClientTests : IAsyncLifetime
{
    private const string Alice = "did:plc:w6bi6bljjbl67ox3fucssffl";
    private const string Bob = "did:plc:vzgipbgbji3v4psqlu37ebyu";

    private readonly List<ServiceProvider> _providers = [];
    private FakeAppView _fake = null!;

    public async Task InitializeAsync() => _fake = await FakeAppView.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }

        await _fake.DisposeAsync();
    }

    [Fact]
    public async Task SuccessfulCallReturnsPostsMatchedByUri()
    {
        var reply = _fake.AddPost(PostUri(Alice, "3kreply000001"), post => post.WithReply(PostUri(Bob, "3kparent00001"), PostUri(Bob, "3kroot0000001")).WithImages(2) with
        {
            AuthorHandle = "alice.test",
            Langs = ["en-US", "de"],
            LikeCount = 7,
            RepostCount = 3,
            ReplyCount = 2,
            QuoteCount = 1,
        });
        var plain = _fake.AddPost(PostUri(Bob, "3kplain000001"), post => post with { Langs = null });
        var missing = PostUri(Bob, "3kmissing0001");

        // The missing post sits between the two, so matching by position would pair it with the plain post.
        var result = await CreateClient().GetPostsAsync([reply.Uri, missing, plain.Uri], CancellationToken.None);

        var success = Assert.IsType<GetPostsResult.Success>(result);
        Assert.Equal(0, success.Retries);
        Assert.Null(success.RateLimit);
        Assert.Equal(new[] { plain.Uri, reply.Uri }.Order(StringComparer.Ordinal), success.PostsByUri.Keys.Order(StringComparer.Ordinal));

        var hydrated = success.PostsByUri[reply.Uri];
        Assert.Equal(reply.Uri, hydrated.Uri);
        Assert.Equal(reply.Cid, hydrated.Cid);
        Assert.Equal(Alice, hydrated.AuthorDid);
        Assert.Equal("alice.test", hydrated.AuthorHandle);
        Assert.Equal(reply.IndexedAt, hydrated.IndexedAt);
        Assert.Equal(reply.CreatedAt, hydrated.CreatedAt);
        Assert.Equal(reply.Text, hydrated.Text);
        Assert.Equal(["en-US", "de"], hydrated.Langs!);
        Assert.Equal(PostUri(Bob, "3kparent00001"), hydrated.ReplyParentUri);
        Assert.Equal(PostUri(Bob, "3kroot0000001"), hydrated.ReplyRootUri);
        Assert.Equal("app.bsky.embed.images#view", hydrated.EmbedType);
        Assert.Equal(7, hydrated.LikeCount);
        Assert.Equal(3, hydrated.RepostCount);
        Assert.Equal(2, hydrated.ReplyCount);
        Assert.Equal(1, hydrated.QuoteCount);

        Assert.Equal(
            new HydratedPost(plain.Uri, plain.Cid, Bob, plain.AuthorHandle, plain.IndexedAt, plain.CreatedAt, plain.Text,
                Langs: null, ReplyParentUri: null, ReplyRootUri: null, EmbedType: null, 0, 0, 0, 0),
            success.PostsByUri[plain.Uri]);
    }

    [Fact]
    public async Task SamplePostViewsFromTheLexiconSnapshotAreHydratedFieldByField()
    {
        var sample = JsonNode.Parse(await File.ReadAllTextAsync(
            Path.Combine(RepositoryPaths.Shared, "atproto", "samples", "getPosts-response.json")))!;
        var views = sample["posts"]!.AsArray().Select(view => view!.AsObject()).ToList();
        views.ForEach(view => _fake.AddPostView(view));
        var uris = views.Select(view => (string)view["uri"]!).Reverse().ToList();

        var result = await CreateClient().GetPostsAsync(uris, CancellationToken.None);

        var posts = Assert.IsType<GetPostsResult.Success>(result).PostsByUri;
        Assert.Equal(5, posts.Count);
        foreach (var view in views)
        {
            var expected = ExpectedFrom(view);
            var actual = posts[expected.Uri];
            Assert.Equal(expected with { Langs = null }, actual with { Langs = null, Media = null });
            Assert.Equal(expected.Langs, actual.Langs);
        }

        // Spot checks written out by hand, so a shared mistake in ExpectedFrom and the client cannot hide.
        var bob = posts[PostUri(Bob, "3krj6j2ixis2b")];
        Assert.Equal(["en-US", "i-klingon"], bob.Langs!);
        Assert.Equal(("bob.test", "bob back at it again!", 1L), (bob.AuthorHandle, bob.Text, bob.QuoteCount));
        var carol = posts["at://did:plc:7fcymkxmsn344fufz5fy6ark/app.bsky.feed.post/3krjdcfoguc2b"];
        Assert.Equal(("app.bsky.embed.recordWithMedia#view", 2L), (carol.EmbedType, carol.LikeCount));
        Assert.Equal([MediaKind.Quote, MediaKind.Image, MediaKind.Image], carol.Media!.Select(item => item.Kind));
        Assert.Equal("bafkreidk3red24o3hvpotk2uckk2bgdwiunuwr3pqdov54yws3kcnsxqje", carol.Media![1].BlobCid);
        Assert.Equal("../dev-env/assets/key-landscape-small.jpg", carol.Media![1].Alt);
        Assert.Equal("2024-05-02T15:32:48.093Z", carol.CreatedAt);
        Assert.Equal("2024-05-02T15:32:48.848Z", carol.IndexedAt);
        var dan = posts["at://did:plc:ialyzfx3wv4tinozceyj7nnb/app.bsky.feed.post/3krjevmqj7c2b"];
        Assert.Equal("app.bsky.embed.record#view", dan.EmbedType);
        Assert.Equal(new MediaItem(MediaKind.Quote, null, QuotedUri: "at://did:plc:7fcymkxmsn344fufz5fy6ark/app.bsky.feed.post/3krjdcfoguc2b"), dan.Media!.Single());
        var aliceReply = posts[PostUri(Alice, "3krj6qlumq22b")];
        Assert.Equal(PostUri(Bob, "3krj6nhadvk2b"), aliceReply.ReplyParentUri);
        Assert.Equal(PostUri(Alice, "3krj6gsrfik2b"), aliceReply.ReplyRootUri);
        Assert.Null(aliceReply.EmbedType);
        Assert.Null(aliceReply.Langs);
    }

    [Fact]
    public async Task MissingPostsAreAbsentFromResult()
    {
        var kept = _fake.AddPost(PostUri(Alice, "3kkept0000001"));
        var deleted = _fake.AddPost(PostUri(Alice, "3kdeleted0001"));
        _fake.RemovePost(deleted.Uri);
        var client = CreateClient();

        var some = await client.GetPostsAsync([kept.Uri, deleted.Uri, PostUri(Bob, "3kunknown0001")], CancellationToken.None);
        var none = await client.GetPostsAsync([deleted.Uri], CancellationToken.None);

        Assert.Equal([kept.Uri], Assert.IsType<GetPostsResult.Success>(some).PostsByUri.Keys);
        Assert.Empty(Assert.IsType<GetPostsResult.Success>(none).PostsByUri);
    }

    [Theory]
    [InlineData("not-a-uri")]
    [InlineData("https://bsky.app/profile/alice.test/post/3krj6c5uxlc2b")]
    [InlineData("at://did:plc:w6bi6bljjbl67ox3fucssffl/app.bsky.feed.post/3krj6c5uxlc2b,at://did:plc:vzgipbgbji3v4psqlu37ebyu/app.bsky.feed.post/3krj6j2ixis2b")]
    public async Task MalformedUriGivesBadRequestWithAppViewMessage(string malformed)
    {
        var result = await CreateClient().GetPostsAsync([PostUri(Alice, "3kfine0000001"), malformed], CancellationToken.None);

        var badRequest = Assert.IsType<GetPostsResult.BadRequest>(result);
        Assert.Equal($"Invalid app.bsky.feed.getPosts params: Invalid at-uri (got \"{malformed}\")", badRequest.Message);
        Assert.Equal(0, badRequest.Retries);
        Assert.Single(_fake.Calls); // a 400 is not retried
    }

    [Theory]
    [InlineData("""{"error":"InvalidRequest"}""", "InvalidRequest")]
    [InlineData("""{"error":"InvalidRequest","message":""}""", "InvalidRequest")]
    [InlineData("<html>nope</html>", "Bad Request")]
    public async Task BadRequestWithoutMessageFallsBackToErrorThenStatusText(string body, string expectedMessage)
    {
        _fake.Script.Enqueue(FakeResponse.Json(400, body));

        var result = await CreateClient().GetPostsAsync([PostUri(Alice, "3kfine0000001")], CancellationToken.None);

        Assert.Equal(expectedMessage, Assert.IsType<GetPostsResult.BadRequest>(result).Message);
    }

    [Fact]
    public async Task BatchContainingAFaultyUriGetsTheFaultForTheWholeBatch()
    {
        var poisoned = _fake.AddPost(PostUri(Alice, "3kpoison00001"));
        _fake.FailWhenContains(poisoned.Uri, 400);
        var client = CreateClient();

        var withIt = await client.GetPostsAsync([_fake.AddPost(PostUri(Bob, "3kother000001")).Uri, poisoned.Uri], CancellationToken.None);
        var withoutIt = await client.GetPostsAsync([PostUri(Bob, "3kother000001")], CancellationToken.None);

        Assert.IsType<GetPostsResult.BadRequest>(withIt);
        Assert.Single(Assert.IsType<GetPostsResult.Success>(withoutIt).PostsByUri);
    }

    [Fact]
    public async Task ServerErrorIsRetriedThenSucceeds()
    {
        var post = _fake.AddPost(PostUri(Alice, "3kretry000001"));
        _fake.Script.Enqueue(FakeResponse.Status(500));
        _fake.Script.Enqueue(FakeResponse.Status(503));

        var result = await CreateClient(maxRetries: 3).GetPostsAsync([post.Uri], CancellationToken.None);

        var success = Assert.IsType<GetPostsResult.Success>(result);
        Assert.Equal(2, success.Retries);
        Assert.Contains(post.Uri, success.PostsByUri.Keys);
        Assert.Equal([500, 503, 200], _fake.Calls.Select(call => call.Status));
    }

    [Fact]
    public async Task PersistentServerErrorGivesFailedAfterRetries()
    {
        var post = _fake.AddPost(PostUri(Alice, "3kbroken00001"));
        _fake.FailWhenContains(post.Uri, 502);

        var result = await CreateClient(maxRetries: 2).GetPostsAsync([post.Uri], CancellationToken.None);

        var failed = Assert.IsType<GetPostsResult.Failed>(result);
        Assert.Equal(502, failed.StatusCode);
        Assert.Contains("Upstream Failure", failed.Reason);
        Assert.Equal(2, failed.Retries);
        Assert.Equal(3, _fake.Calls.Count);
    }

    [Fact]
    public async Task HandleBasedUriFailsTheWholeBatchWithServerError()
    {
        var result = await CreateClient(maxRetries: 1).GetPostsAsync(
            [_fake.AddPost(PostUri(Alice, "3kfine0000001")).Uri, "at://alice.test/app.bsky.feed.post/3kfine0000001"],
            CancellationToken.None);

        var failed = Assert.IsType<GetPostsResult.Failed>(result);
        Assert.Equal(500, failed.StatusCode);
        Assert.Contains("Internal Server Error", failed.Reason);
    }

    [Fact]
    public async Task ZeroRetriesMeansASingleAttempt()
    {
        _fake.Script.Enqueue(FakeResponse.Status(500));

        var result = await CreateClient(maxRetries: 0).GetPostsAsync([PostUri(Alice, "3kfine0000001")], CancellationToken.None);

        Assert.Equal(0, Assert.IsType<GetPostsResult.Failed>(result).Retries);
        Assert.Single(_fake.Calls);
    }

    [Fact]
    public async Task UnexpectedStatusGivesFailedWithoutRetry()
    {
        _fake.Script.Enqueue(FakeResponse.Status(401));

        var result = await CreateClient().GetPostsAsync([PostUri(Alice, "3kfine0000001")], CancellationToken.None);

        var failed = Assert.IsType<GetPostsResult.Failed>(result);
        Assert.Equal((401, 0), (failed.StatusCode, failed.Retries));
        Assert.Contains("Authentication Required", failed.Reason);
        Assert.Single(_fake.Calls);
    }

    [Fact]
    public async Task TooManyRequestsReturnsRateLimitedWithRetryAfter()
    {
        _fake.Script.Enqueue(FakeResponse.RateLimited(30, withHeaders: true, withRetryAfter: true));

        var result = await CreateClient().GetPostsAsync([PostUri(Alice, "3kfine0000001")], CancellationToken.None);

        var limited = Assert.IsType<GetPostsResult.RateLimited>(result);
        Assert.Equal(TimeSpan.FromSeconds(30), limited.RetryAfter);
        Assert.Equal(0, limited.Retries);
        Assert.Single(_fake.Calls); // the client leaves waiting to the caller
    }

    [Fact]
    public async Task TooManyRequestsWithOnlyRateLimitResetWaitsUntilTheReset()
    {
        _fake.Script.Enqueue(FakeResponse.RateLimited(30, withHeaders: true, withRetryAfter: false));

        var result = await CreateClient().GetPostsAsync([PostUri(Alice, "3kfine0000001")], CancellationToken.None);

        // RateLimit-Reset has whole-second resolution.
        var retryAfter = Assert.IsType<GetPostsResult.RateLimited>(result).RetryAfter;
        Assert.InRange(retryAfter, TimeSpan.FromSeconds(28), TimeSpan.FromSeconds(31));
    }

    [Fact]
    public async Task TooManyRequestsWithSmallRateLimitResetReadsItAsDeltaSeconds()
    {
        _fake.Script.Enqueue(FakeResponse.Status(429).WithHeader("RateLimit-Reset", "45"));

        var result = await CreateClient().GetPostsAsync([PostUri(Alice, "3kfine0000001")], CancellationToken.None);

        var retryAfter = Assert.IsType<GetPostsResult.RateLimited>(result).RetryAfter;
        Assert.InRange(retryAfter, TimeSpan.FromSeconds(44), TimeSpan.FromSeconds(45));
    }

    [Fact]
    public async Task TooManyRequestsWithRetryAfterDateWaitsUntilThatDate()
    {
        var until = DateTimeOffset.UtcNow.AddSeconds(40);
        _fake.Script.Enqueue(FakeResponse.Status(429).WithHeader("Retry-After", until.ToString("R", CultureInfo.InvariantCulture)));

        var result = await CreateClient().GetPostsAsync([PostUri(Alice, "3kfine0000001")], CancellationToken.None);

        var retryAfter = Assert.IsType<GetPostsResult.RateLimited>(result).RetryAfter;
        Assert.InRange(retryAfter, TimeSpan.FromSeconds(38), TimeSpan.FromSeconds(40));
    }

    [Fact]
    public async Task TooManyRequestsWithoutHeadersWaitsSixtySeconds()
    {
        _fake.Script.Enqueue(FakeResponse.RateLimited(30, withHeaders: false, withRetryAfter: false));

        var result = await CreateClient().GetPostsAsync([PostUri(Alice, "3kfine0000001")], CancellationToken.None);

        var limited = Assert.IsType<GetPostsResult.RateLimited>(result);
        Assert.Equal(TimeSpan.FromSeconds(60), limited.RetryAfter);
        Assert.Null(limited.RateLimit);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnAbsurdlyLongRetryAfterIsCutToAnHour(bool withRateLimitHeaders)
    {
        _fake.Script.Enqueue(FakeResponse.RateLimited((int)TimeSpan.FromDays(3650).TotalSeconds, withRateLimitHeaders));

        var result = await CreateClient().GetPostsAsync([PostUri(Alice, "3kfine0000001")], CancellationToken.None);

        Assert.Equal(TimeSpan.FromHours(1), Assert.IsType<GetPostsResult.RateLimited>(result).RetryAfter);
    }

    [Fact]
    public async Task GarbageBodyIsRetried()
    {
        var post = _fake.AddPost(PostUri(Alice, "3kgarbage0001"));
        _fake.Script.Enqueue(FakeResponse.Garbage());
        _fake.Script.Enqueue(FakeResponse.Json(200, """{"cursor":"no posts here"}"""));

        var result = await CreateClient(maxRetries: 3).GetPostsAsync([post.Uri], CancellationToken.None);

        var success = Assert.IsType<GetPostsResult.Success>(result);
        Assert.Equal(2, success.Retries);
        Assert.Contains(post.Uri, success.PostsByUri.Keys);
    }

    [Fact]
    public async Task PersistentGarbageGivesFailedAfterRetries()
    {
        for (var i = 0; i < 3; i++)
        {
            _fake.Script.Enqueue(FakeResponse.Garbage());
        }

        var result = await CreateClient(maxRetries: 2).GetPostsAsync([PostUri(Alice, "3kfine0000001")], CancellationToken.None);

        var failed = Assert.IsType<GetPostsResult.Failed>(result);
        Assert.Equal((200, 2), (failed.StatusCode, failed.Retries));
        Assert.Contains("not a valid getPosts body", failed.Reason);
    }

    [Fact]
    public async Task HangingCallTimesOutAndIsRetried()
    {
        var post = _fake.AddPost(PostUri(Alice, "3khang0000001"));
        _fake.Script.Enqueue(FakeResponse.Hang(TimeSpan.FromSeconds(30)));
        var stopwatch = Stopwatch.StartNew();

        var result = await CreateClient(maxRetries: 1, attemptTimeoutSeconds: 1).GetPostsAsync([post.Uri], CancellationToken.None);

        var success = Assert.IsType<GetPostsResult.Success>(result);
        Assert.Equal(1, success.Retries);
        Assert.Contains(post.Uri, success.PostsByUri.Keys);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task PersistentHangGivesFailedWithoutStatusCode()
    {
        _fake.Script.Enqueue(FakeResponse.Hang(TimeSpan.FromSeconds(30)));
        _fake.Script.Enqueue(FakeResponse.Hang(TimeSpan.FromSeconds(30)));

        var result = await CreateClient(maxRetries: 1, attemptTimeoutSeconds: 1).GetPostsAsync([PostUri(Alice, "3kfine0000001")], CancellationToken.None);

        var failed = Assert.IsType<GetPostsResult.Failed>(result);
        Assert.Null(failed.StatusCode);
        Assert.Contains("did not answer within 1 s", failed.Reason);
        Assert.Equal(1, failed.Retries);
    }

    [Fact]
    public async Task ATimedOutAttemptThatIsRetriedIsLoggedAsAWarningNotAnError()
    {
        var post = _fake.AddPost(PostUri(Alice, "3khang0000002"));
        _fake.Script.Enqueue(FakeResponse.Hang(TimeSpan.FromSeconds(30)));
        var logs = new LogCapture();

        var result = await CreateClient(maxRetries: 1, attemptTimeoutSeconds: 1, logs: logs).GetPostsAsync([post.Uri], CancellationToken.None);

        Assert.IsType<GetPostsResult.Success>(result);
        Assert.Contains(logs.Entries, entry => entry.Level == LogLevel.Warning);
        Assert.DoesNotContain(logs.Entries, entry => entry.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task ConnectionFailureGivesFailedAfterRetries()
    {
        var closed = await FakeAppView.StartAsync();
        var deadUrl = closed.BaseUrl;
        await closed.DisposeAsync();

        var result = await CreateClient(maxRetries: 2, baseUrl: deadUrl).GetPostsAsync([PostUri(Alice, "3kfine0000001")], CancellationToken.None);

        var failed = Assert.IsType<GetPostsResult.Failed>(result);
        Assert.Null(failed.StatusCode);
        Assert.Equal(2, failed.Retries);
        Assert.StartsWith("request to the AppView failed", failed.Reason);
    }

    [Fact]
    public async Task UnknownFieldsAndUnrequestedPostsAreIgnored()
    {
        var first = _fake.AddPost(PostUri(Alice, "3kfirst000001"));
        var second = _fake.AddPost(PostUri(Bob, "3ksecond00001"));
        var unrequested = _fake.AddPost(PostUri(Bob, "3kunwanted001"));
        var withExtras = second.ToPostView();
        withExtras["futureField"] = new JsonObject { ["nested"] = new JsonArray(1, 2, 3) };
        withExtras["author"]!["pronouns"] = "they/them";
        var duplicate = (first with { Cid = FakePost.FakeCid("other version") }).ToPostView();
        _fake.Script.Enqueue(FakeResponse.Json(200, new JsonObject
        {
            ["cursor"] = "abc",
            ["posts"] = new JsonArray(unrequested.ToPostView(), withExtras, first.ToPostView(), duplicate),
            ["somethingNew"] = true,
        }.ToJsonString()));

        var result = await CreateClient().GetPostsAsync([first.Uri, second.Uri], CancellationToken.None);

        var posts = Assert.IsType<GetPostsResult.Success>(result).PostsByUri;
        Assert.Equal(new[] { first.Uri, second.Uri }.Order(StringComparer.Ordinal), posts.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(first.Cid, posts[first.Uri].Cid); // the first of two copies wins
        Assert.Equal(second.Text, posts[second.Uri].Text);
    }

    [Fact]
    public async Task PostMissingRequiredFieldsIsSkippedNotFatal()
    {
        var good = _fake.AddPost(PostUri(Alice, "3kgood0000001"));
        var noCid = _fake.AddPost(PostUri(Alice, "3knocid000001")).ToPostView();
        noCid.Remove("cid");
        var noHandle = _fake.AddPost(PostUri(Alice, "3knohandle001")).ToPostView();
        noHandle["author"]!.AsObject().Remove("handle");
        _fake.Script.Enqueue(FakeResponse.Json(200, new JsonObject
        {
            ["posts"] = new JsonArray(noCid, null, noHandle, good.ToPostView()),
        }.ToJsonString()));

        var result = await CreateClient().GetPostsAsync(
            [(string)noCid["uri"]!, (string)noHandle["uri"]!, good.Uri], CancellationToken.None);

        Assert.Equal([good.Uri], Assert.IsType<GetPostsResult.Success>(result).PostsByUri.Keys);
    }

    [Fact]
    public async Task RateLimitHeadersAreReported()
    {
        _fake.LimitRate(100, TimeSpan.FromMinutes(5));
        var post = _fake.AddPost(PostUri(Alice, "3kfine0000001"));

        var result = await CreateClient().GetPostsAsync([post.Uri], CancellationToken.None);

        var rateLimit = Assert.IsType<GetPostsResult.Success>(result).RateLimit;
        Assert.NotNull(rateLimit);
        Assert.Equal((100L, 99L, "100;w=300"), (rateLimit.Limit, rateLimit.Remaining, rateLimit.Policy));
        Assert.InRange(rateLimit.Reset!.Value, DateTimeOffset.UtcNow.AddMinutes(4), DateTimeOffset.UtcNow.AddMinutes(5.1));
    }

    [Fact]
    public async Task WhenTheAppViewSaysNoCallsAreLeftTheNextCallWaitsForItsResetInsteadOfBeingRefused()
    {
        _fake.LimitRate(1, TimeSpan.FromSeconds(2), withRetryAfter: false);
        var client = CreateClient();
        var uris = new[] { PostUri(Alice, "3kfine0000001") };

        var first = Assert.IsType<GetPostsResult.Success>(await client.GetPostsAsync(uris, CancellationToken.None));
        var stopwatch = Stopwatch.StartNew();
        var second = await client.GetPostsAsync(uris, CancellationToken.None);

        Assert.Equal(0, first.RateLimit?.Remaining);
        Assert.IsType<GetPostsResult.Success>(second);
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromSeconds(0.5), $"the second call waited for RateLimit-Reset, not {stopwatch.Elapsed}");
        Assert.All(_fake.Calls, call => Assert.Equal(200, call.Status));
    }

    [Fact]
    public async Task TheAttemptTimeoutStartsOnlyOnceTheBudgetHasGrantedThePermit()
    {
        _fake.LimitRate(1, TimeSpan.FromSeconds(3), withRetryAfter: false);
        var client = CreateClient(maxRetries: 1, attemptTimeoutSeconds: 1);
        var uris = new[] { PostUri(Alice, "3kfine0000001") };
        Assert.IsType<GetPostsResult.Success>(await client.GetPostsAsync(uris, CancellationToken.None));

        // The budget holds this call for the AppView's reset, longer than the attempt timeout: the wait is not an attempt.
        var second = await client.GetPostsAsync(uris, CancellationToken.None);

        Assert.Equal(0, Assert.IsType<GetPostsResult.Success>(second).Retries);
        Assert.Equal(2, _fake.Calls.Count);
    }

    [Fact]
    public async Task CallerCancellationPropagates()
    {
        _fake.Script.Enqueue(FakeResponse.Hang(TimeSpan.FromSeconds(30)));
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var client = CreateClient(maxRetries: 3);
        var stopwatch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => client.GetPostsAsync([PostUri(Alice, "3kfine0000001")], cancellation.Token));

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(4), $"took {stopwatch.Elapsed}: it waited for the 5 s attempt timeout");
        Assert.Single(_fake.Calls); // no retry after the caller gave up
    }

    [Fact]
    public async Task AlreadyCancelledTokenPropagatesWithoutCalling()
    {
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => CreateClient().GetPostsAsync([PostUri(Alice, "3kfine0000001")], new CancellationToken(canceled: true)));

        Assert.Empty(_fake.Calls);
    }

    [Fact]
    public async Task UrisAreSentAsRepeatedEscapedParameters()
    {
        // Record keys may contain '&', '+', '=' and ':', which would corrupt an unescaped query string.
        var tricky = _fake.AddPost($"at://{Alice}/app.bsky.feed.post/a+b&c=d:e");
        var plain = _fake.AddPost(PostUri(Bob, "3kplain000001"));

        var result = await CreateClient().GetPostsAsync([tricky.Uri, plain.Uri], CancellationToken.None);

        Assert.Equal(2, Assert.IsType<GetPostsResult.Success>(result).PostsByUri.Count);
        var call = Assert.Single(_fake.Calls);
        Assert.Equal(
            "?uris=at%3A%2F%2Fdid%3Aplc%3Aw6bi6bljjbl67ox3fucssffl%2Fapp.bsky.feed.post%2Fa%2Bb%26c%3Dd%3Ae"
            + "&uris=at%3A%2F%2Fdid%3Aplc%3Avzgipbgbji3v4psqlu37ebyu%2Fapp.bsky.feed.post%2F3kplain000001",
            call.RawQuery);
        Assert.Equal([tricky.Uri, plain.Uri], call.Uris);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(26)]
    public async Task NoUrisOrMoreThanTwentyFiveAreRejectedBeforeCalling(int count)
    {
        var uris = Enumerable.Range(0, count).Select(i => PostUri(Alice, $"3kmany{i:D7}")).ToList();

        await Assert.ThrowsAsync<ArgumentException>(() => CreateClient().GetPostsAsync(uris, CancellationToken.None));

        Assert.Empty(_fake.Calls);
    }

    [Fact]
    public async Task TwentyFiveUrisAreAccepted()
    {
        var uris = Enumerable.Range(0, 25).Select(i => _fake.AddPost(PostUri(Alice, $"3kmany{i:D7}")).Uri).ToList();

        var result = await CreateClient().GetPostsAsync(uris, CancellationToken.None);

        Assert.Equal(25, Assert.IsType<GetPostsResult.Success>(result).PostsByUri.Count);
    }

    [Theory]
    [InlineData("BaseUrl", "not a url")]
    [InlineData("AttemptTimeoutSeconds", "0")]
    [InlineData("MaxRetries", "11")]
    [InlineData("RetryBaseDelayMs", "0")]
    public void InvalidOptionsAreRejected(string key, string value)
    {
        var provider = BuildProvider(null, new Dictionary<string, string?> { [$"{AppViewOptions.Section}:{key}"] = value });

        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<AppViewOptions>>().Value);
    }

    /// <summary>
    /// Tests that wait for the attempt timeout pass 1 s. The others get 5 s, which costs nothing when all is well
    /// and keeps a cold first request on a loaded machine from being timed out and retried.
    /// </summary>
    private IAppViewClient CreateClient(int maxRetries = 2, int attemptTimeoutSeconds = 5, string? baseUrl = null, LogCapture? logs = null) =>
        BuildProvider(logs, new Dictionary<string, string?>
        {
            [$"{AppViewOptions.Section}:BaseUrl"] = baseUrl ?? _fake.BaseUrl,
            [$"{AppViewOptions.Section}:AttemptTimeoutSeconds"] = attemptTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
            [$"{AppViewOptions.Section}:MaxRetries"] = maxRetries.ToString(CultureInfo.InvariantCulture),
            [$"{AppViewOptions.Section}:RetryBaseDelayMs"] = "1",
        }).GetRequiredService<IAppViewClient>();

    private ServiceProvider BuildProvider(LogCapture? logs, Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var provider = new ServiceCollection()
            .AddLogging(logging =>
            {
                if (logs is not null)
                {
                    logging.AddProvider(logs);
                }
            })
            .AddAppViewClient(configuration).BuildServiceProvider();
        _providers.Add(provider);
        return provider;
    }

    private static string PostUri(string did, string rkey) => $"at://{did}/app.bsky.feed.post/{rkey}";

    /// <summary>What the client should make of a postView, read independently with JsonNode.</summary>
    private static HydratedPost ExpectedFrom(JsonObject view)
    {
        var record = view["record"];
        return new HydratedPost(
            (string)view["uri"]!,
            (string)view["cid"]!,
            (string)view["author"]!["did"]!,
            (string)view["author"]!["handle"]!,
            (string)view["indexedAt"]!,
            (string?)record?["createdAt"],
            (string?)record?["text"],
            record?["langs"]?.AsArray().Select(lang => (string)lang!).ToList(),
            (string?)record?["reply"]?["parent"]?["uri"],
            (string?)record?["reply"]?["root"]?["uri"],
            (string?)view["embed"]?["$type"],
            (long?)view["likeCount"],
            (long?)view["repostCount"],
            (long?)view["replyCount"],
            (long?)view["quoteCount"]);
    }
}
