using PostService.Bench;

// One command per benchmark; each prints a table and ends with a line of key=value figures.
return args switch
{
    ["coverage", .. var rest] => await CoverageBenchmark.RunAsync(Arguments.Parse(rest)),
    ["budget", .. var rest] => await BudgetBenchmark.RunAsync(Arguments.Parse(rest)),
    ["firehose", .. var rest] => await FirehoseBenchmark.RunThroughputAsync(Arguments.Parse(rest)),
    ["firehose-hydrate", .. var rest] => await FirehoseBenchmark.RunZeroCallAsync(Arguments.Parse(rest)),
    ["ingest", .. var rest] => await IngestBenchmark.RunAsync(Arguments.Parse(rest)),
    ["export", .. var rest] => await ExportBenchmark.RunAsync(Arguments.Parse(rest)),
    ["memory", .. var rest] => await MemoryBenchmark.RunAsync(Arguments.Parse(rest)),
    ["reads", .. var rest] => await ReadsBenchmark.RunAsync(Arguments.Parse(rest)),
    ["time-to-hydrate", .. var rest] => await TimeToHydrateBenchmark.RunAsync(Arguments.Parse(rest)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: dotnet run -c Release --project bench/PostService.Bench -- <benchmark> [--name value ...]
          coverage --posts 1000000 --repeat 20
          budget   --uris 20000 --calls 300 --window 30 --latency 150 [--faults true]
          memory   --posts 1000000 --fresh 0.5 --batch 10 --clients 4 --latency 5 --in-flight 8
          reads    --posts 1000000 --connections 64 --seconds 30 --threads 2   (needs wrk: apt-get install -y wrk)
          time-to-hydrate --retrievals 120 --rate 2 --latency 150 [--rate-limit N --rate-window 300]
          firehose --copies 50 [--recording file] [--url ws://...] [--provider sqlite|postgres --connection ...]
          firehose-hydrate --copies 20 --rate 1000 --seconds 30 --posts 25 --interval-ms 200 [--linger 250]
          export   --exposures 1000000 --posts 200000 --row-group 50000
          ingest   --requests 100 --batch 50 --clients 4 --fresh 0.1|0.6 --hydration off|busy429|budget [--cids 0.3] [--rounds 1]
                   [--peer CHECKOUT-OF-bsky-compliance-tracker] [--provider sqlite|postgres --connection ...]
        """);
    return 2;
}
