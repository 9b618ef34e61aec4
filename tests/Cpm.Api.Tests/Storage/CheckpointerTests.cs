using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Cpm.Api.Storage.Sqlite;
using Cpm.Api.Telemetry;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cpm.Api.Tests.Storage;

/// <summary>
/// Checkpoints on their own connection and thread, with SQLite's automatic checkpoint off on the
/// writer as the store sets it: writers that never pause do not grow the write-ahead log without
/// bound, every committed row is in the database, and the checkpoint that holds the writer
/// copies only what the passive rounds before it left.
/// </summary>
[Collection(nameof(GroupCommitTests))]
public sealed class CheckpointerTests : IDisposable
{
    // A 1 MiB log (256 frames of 4 KiB) before the checkpoint waits for a pause between batches.
    private const int RestartFrames = 256;
    private const int Writers = 32;
    private const int RowsPerWriter = 192;
    private const int RowBytes = 16 * 1024;

    private readonly string _directory = Directory.CreateTempSubdirectory("cpm-checkpointer-").FullName;
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private string DatabasePath => Path.Combine(_directory, "test.db");

    private string ConnectionString => $"Data Source={DatabasePath};Pooling=False";

    [Fact]
    public async Task TheLogStaysBoundedWhileWritersNeverPause()
    {
        var writer = OpenWriter();
        Checkpointer? checkpointer = null;
        var commits = new GroupCommit(writer, () => checkpointer?.Committed());
        checkpointer = NewCheckpointer(commits);
        long largestLog = 0;
        using (commits)
        using (checkpointer)
        {
            // 96 MiB in all, 96 times the log's limit, from writers that queue their next row as soon as the last commits.
            await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
            {
                for (var n = 0; n < RowsPerWriter; n++)
                {
                    await commits.WriteAsync((connection, transaction) => Task.FromResult(Insert(connection, transaction, $"{w}-{n}")), CancellationToken.None);
                    var log = new FileInfo(DatabasePath + "-wal").Length;
                    InterlockedMax(ref largestLog, log);
                }
            })));

            Assert.True(checkpointer.Checkpoints > 0, "No checkpoint ran.");
        }

        // Bounded: under 40 MiB of the 96 MiB written. The log grows on at the writers' pace while a
        // checkpoint runs and during the 100 ms between checkpoints (9 to 26 MB seen, the most when the
        // machine was quiet and the writers fastest); a log that only passive checkpoints copied from
        // would hold everything written.
        Assert.InRange(largestLog, 1, 40L * 1024 * 1024);
        using var reader = new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False");
        reader.Open();
        using var count = reader.CreateCommand();
        count.CommandText = "SELECT count(*), sum(length(data)) FROM rows";
        using var result = count.ExecuteReader();
        Assert.True(result.Read());
        Assert.Equal(Writers * RowsPerWriter, result.GetInt64(0));
        Assert.Equal((long)Writers * RowsPerWriter * RowBytes, result.GetInt64(1));
    }

    [Fact]
    public async Task TheCheckpointHoldingTheWriterCopiesOnlyWhatThePassiveRoundsLeft()
    {
        // A log already past the limit (90 rows of 16 KiB are over 360 frames), written before the
        // checkpointer starts, with a reader holding a snapshot of the first 80 rows: the first round
        // can copy only those, so the log has frames left and does not start over.
        var writer = OpenWriter();
        InsertRows(writer, "before", 80);
        using var reader = new SqliteConnection(ConnectionString);
        reader.Open();
        using var snapshot = reader.BeginTransaction(deferred: true);
        using (var read = reader.CreateCommand())
        {
            read.Transaction = snapshot;
            read.CommandText = "SELECT count(*) FROM rows";
            Assert.Equal(80L, read.ExecuteScalar());
        }

        InsertRows(writer, "after", 10);

        // The listener runs on the checkpointer's thread as each checkpoint is measured: after the first
        // round the reader lets go and 32 more rows (over 128 frames) commit, as writers' would while that round ran.
        Checkpointer? checkpointer = null;
        var commits = new GroupCommit(writer, () => checkpointer?.Committed());
        var passiveRounds = new ConcurrentQueue<int>();
        var heldWriter = new ConcurrentQueue<int>();
        var pauses = new ConcurrentQueue<double>();
        using var listener = ListenToCheckpoints((frames, held) =>
        {
            if (held)
            {
                heldWriter.Enqueue(frames);
            }
            else
            {
                passiveRounds.Enqueue(frames);
                if (passiveRounds.Count > 1)
                {
                    return;
                }

                snapshot.Commit();
                for (var n = 0; n < 32; n++)
                {
                    commits.WriteAsync((connection, transaction) => Task.FromResult(Insert(connection, transaction, $"during-{n}")), CancellationToken.None).GetAwaiter().GetResult();
                }
            }
        }, pauses.Enqueue);

        using (commits)
        {
            checkpointer = NewCheckpointer(commits);
            using (checkpointer)
            {
                await commits.WriteAsync((connection, transaction) => Task.FromResult(Insert(connection, transaction, "wake")), CancellationToken.None);
                for (var wait = 0; wait < 200 && heldWriter.IsEmpty; wait++)
                {
                    await Task.Delay(50);
                }
            }
        }

        // The first round copied the reader's 80 rows; the second copied the rest and the rows
        // committed during the first (without it, the checkpoint holding the writer would have), and
        // the third found nothing new, so the checkpoint holding the writer had nothing left to copy.
        // (The commits also woke the checkpointer for a later round, which may hold it again, as idly.)
        Assert.NotEmpty(heldWriter);
        Assert.All(heldWriter, frames => Assert.Equal(0, frames));
        Assert.Equal(heldWriter.Count, pauses.Count);
        Assert.All(pauses, seconds => Assert.InRange(seconds, double.Epsilon, 10));
        var rounds = passiveRounds.ToArray();
        Assert.True(rounds.Length >= 3, $"Passive rounds copied {string.Join(", ", rounds)} frames.");
        Assert.InRange(rounds[0], RestartFrames, 400);
        Assert.InRange(rounds[1], 128 + 32, 400);
        Assert.Equal(0, rounds[2]);
    }

    public void Dispose()
    {
        _services.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private SqliteConnection OpenWriter()
    {
        var writer = new SqliteConnection(ConnectionString);
        writer.Open();
        using var schema = writer.CreateCommand();
        schema.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE rows (id TEXT PRIMARY KEY, data BLOB NOT NULL);";
        schema.ExecuteNonQuery();
        return writer;
    }

    private static void InsertRows(SqliteConnection writer, string prefix, int count)
    {
        using var transaction = writer.BeginTransaction();
        for (var n = 0; n < count; n++)
        {
            Insert(writer, transaction, $"{prefix}-{n}");
        }

        transaction.Commit();
    }

    private Checkpointer NewCheckpointer(GroupCommit commits) =>
        new(ConnectionString, commits, new CpmMetrics(_services.GetRequiredService<IMeterFactory>()), TimeProvider.System, NullLogger.Instance, RestartFrames);

    /// <summary>
    /// Hears this test's checkpoints only: the frames each copied and whether it held the writer,
    /// and how long each that held the writer took.
    /// </summary>
    private MeterListener ListenToCheckpoints(Action<int, bool> checkpointed, Action<double> pausedWriter)
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, subscription) =>
            {
                if (instrument.Name is "cpm.sqlite.checkpoint.frames" or "cpm.sqlite.writer.pause.duration" && ReferenceEquals(instrument.Meter.Scope, meters))
                {
                    subscription.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((_, frames, tags, _) =>
            checkpointed(frames, tags.ToArray().Any(tag => tag is { Key: "held_writer", Value: true })));
        listener.SetMeasurementEventCallback<double>((_, seconds, _, _) => pausedWriter(seconds));
        listener.Start();
        return listener;
    }

    private static int Insert(SqliteConnection connection, SqliteTransaction transaction, string id)
    {
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO rows (id, data) VALUES ($id, randomblob($bytes))";
        insert.Parameters.AddWithValue("$id", id);
        insert.Parameters.AddWithValue("$bytes", RowBytes);
        return insert.ExecuteNonQuery();
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
