using Cpm.Api.Storage;
using Cpm.Api.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cpm.Api.Tests.Storage;

/// <summary>
/// Group commit on a real SQLite file: writes queued behind a commit run together in the next
/// transaction (counted by <see cref="GroupCommit.Commits"/>), yet each keeps its own outcome and
/// its own atomicity.
/// </summary>
// Not alongside CheckpointerTests: its writers keep the thread pool busy, and these count how writes share commits.
[Collection(nameof(GroupCommitTests))]
public sealed class GroupCommitTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cpm-group-commit-").FullName;
    private readonly SqliteConnection _writer;
    private readonly GroupCommit _commits;

    public GroupCommitTests()
    {
        _writer = new SqliteConnection($"Data Source={Path.Combine(_directory, "test.db")};Pooling=False");
        _writer.Open();
        using var schema = _writer.CreateCommand();
        schema.CommandText = "PRAGMA journal_mode = WAL; CREATE TABLE rows (id TEXT PRIMARY KEY);";
        schema.ExecuteNonQuery();
        _commits = new GroupCommit(_writer);
    }

    [Fact]
    public async Task AWriteThatFailsPartWayIsUndoneAloneWhileTheRestOfItsBatchCommits()
    {
        var release = new TaskCompletionSource();
        var holder = _commits.WriteAsync(async (connection, transaction) =>
        {
            await release.Task;
            return Insert(connection, transaction, "holder");
        }, CancellationToken.None);

        // Queued behind the holder's commit, these four run in one transaction.
        var before = _commits.WriteAsync((connection, transaction) => Task.FromResult(Insert(connection, transaction, "before")), CancellationToken.None);
        var thrower = _commits.WriteAsync<int>((connection, transaction) =>
        {
            Insert(connection, transaction, "thrower-partial");
            throw new InvalidOperationException("failed part-way");
        }, CancellationToken.None);
        var duplicate = _commits.WriteAsync((connection, transaction) =>
        {
            Insert(connection, transaction, "duplicate-partial");
            return Task.FromResult(Insert(connection, transaction, "before"));
        }, CancellationToken.None);
        var after = _commits.WriteAsync((connection, transaction) => Task.FromResult(Insert(connection, transaction, "after")), CancellationToken.None);
        release.SetResult();

        Assert.Equal(1, await holder);
        Assert.Equal(1, await before);
        Assert.Equal("failed part-way", (await Assert.ThrowsAsync<InvalidOperationException>(() => thrower)).Message);
        Assert.StartsWith("SQLite write failed:", (await Assert.ThrowsAsync<StorageUnavailableException>(() => duplicate)).Message);
        Assert.Equal(1, await after);
        Assert.Equal(["after", "before", "holder"], Rows());
        Assert.Equal(2, _commits.Commits);
    }

    [Fact]
    public async Task WritesQueuedBehindACommitShareTheNextOne()
    {
        var release = new TaskCompletionSource();
        var holder = _commits.WriteAsync(async (connection, transaction) =>
        {
            await release.Task;
            return Insert(connection, transaction, "holder");
        }, CancellationToken.None);

        // Each call queues its write before it returns, so all 64 wait behind the holder's commit.
        var queued = Enumerable.Range(0, 64)
            .Select(i => _commits.WriteAsync((connection, transaction) => Task.FromResult(Insert(connection, transaction, $"queued-{i:00}")), CancellationToken.None))
            .ToList();
        release.SetResult();

        Assert.Equal(1, await holder);
        Assert.All(await Task.WhenAll(queued), inserted => Assert.Equal(1, inserted));
        Assert.Equal(65, Rows().Length);
        Assert.Equal(2, _commits.Commits);
    }

    [Fact]
    public async Task ConcurrentWritersShareCommits()
    {
        const int writes = 200;

        // The writer is held by a first write while the others queue, so they all arrive while it
        // is busy, however the machine schedules them: one commit each would mean no grouping.
        var release = new TaskCompletionSource();
        var holder = _commits.WriteAsync(async (connection, transaction) =>
        {
            await release.Task;
            return Insert(connection, transaction, "holder");
        }, CancellationToken.None);
        var queued = Enumerable.Range(0, writes)
            .Select(i => _commits.WriteAsync((connection, transaction) => Task.FromResult(Insert(connection, transaction, $"writer-{i:000}")), CancellationToken.None))
            .ToList();
        release.SetResult();

        Assert.Equal(1, await holder);
        Assert.All(await Task.WhenAll(queued), count => Assert.Equal(1, count));
        Assert.Equal(writes + 1, Rows().Length);
        Assert.InRange(_commits.Commits - 1, 1, writes / 10);
    }

    [Fact]
    public async Task AWriteCancelledWhileQueuedNeverRuns()
    {
        var release = new TaskCompletionSource();
        var holder = _commits.WriteAsync(async (connection, transaction) =>
        {
            await release.Task;
            return Insert(connection, transaction, "holder");
        }, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var cancelled = _commits.WriteAsync((connection, transaction) => Task.FromResult(Insert(connection, transaction, "cancelled")), cancel.Token);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        release.SetResult();

        Assert.Equal(1, await holder);
        Assert.Equal(1, await _commits.WriteAsync((connection, transaction) => Task.FromResult(Insert(connection, transaction, "later")), CancellationToken.None));
        Assert.Equal(["holder", "later"], Rows());
        Assert.Equal(2, _commits.Commits);
    }

    public void Dispose()
    {
        _commits.Dispose();
        _writer.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static int Insert(SqliteConnection connection, SqliteTransaction transaction, string id)
    {
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO rows (id) VALUES ($id)";
        insert.Parameters.AddWithValue("$id", id);
        return insert.ExecuteNonQuery();
    }

    private string[] Rows()
    {
        using var select = _writer.CreateCommand();
        select.CommandText = "SELECT id FROM rows ORDER BY id";
        using var reader = select.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(reader.GetString(0));
        }

        return [.. rows];
    }
}
