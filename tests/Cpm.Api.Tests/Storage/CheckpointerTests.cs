using Cpm.Api.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cpm.Api.Tests.Storage;

/// <summary>
/// Checkpoints on their own connection and thread, with SQLite's automatic checkpoint off on the
/// writer as the store sets it: writers that never pause do not grow the write-ahead log without
/// bound, and every committed row is in the database.
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

    private string DatabasePath => Path.Combine(_directory, "test.db");

    [Fact]
    public async Task TheLogStaysBoundedWhileWritersNeverPause()
    {
        var connectionString = $"Data Source={DatabasePath};Pooling=False";
        var writer = new SqliteConnection(connectionString);
        writer.Open();
        using (var schema = writer.CreateCommand())
        {
            schema.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE rows (id TEXT PRIMARY KEY, data BLOB NOT NULL);";
            schema.ExecuteNonQuery();
        }

        Checkpointer? checkpointer = null;
        var commits = new GroupCommit(writer, () => checkpointer?.Committed());
        checkpointer = new Checkpointer(connectionString, commits, NullLogger.Instance, RestartFrames);
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

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
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
