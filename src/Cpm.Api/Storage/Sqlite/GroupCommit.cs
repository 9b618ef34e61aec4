using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Cpm.Api.Storage.Sqlite;

/// <summary>
/// Group commit on the one writer connection. Writes that arrive while a commit is going to disk
/// queue up; the next caller to hold the writer runs all of them one after another in one
/// immediate transaction, and they share that commit's fsync. Each write stays atomic: the batch
/// first runs without savepoints, and if any write fails it is rolled back and run again with each
/// write in its own savepoint, so the one that fails is undone alone and the others still commit.
/// A caller hears back only after the commit holding its write is durable. It owns the writer
/// connection and closes it.
/// </summary>
internal sealed class GroupCommit(SqliteConnection writer, Action? committed = null) : IDisposable
{
    // Bounds how long the first write of a batch waits for the last one.
    private const int MaxBatch = 128;
    private const string Savepoint = "SAVEPOINT cpm_write";
    private const string Release = "RELEASE cpm_write";
    private const string RollbackToSavepoint = "ROLLBACK TO cpm_write";

    // How long closing waits for a batch still being written (a request past the host's shutdown timeout).
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(10);

    private readonly ConcurrentQueue<PendingWrite> _queue = new();
    // How often a thread waiting to run an exclusive action looks for the writer free.
    private static readonly TimeSpan ExclusivePoll = TimeSpan.FromMilliseconds(5);

    private readonly SemaphoreSlim _writerLock = new(1, 1);
    private ExclusiveAction? _exclusive;
    private long _commits;

    /// <summary>Transactions committed so far: fewer than the writes they held when writes shared them.</summary>
    public long Commits => Interlocked.Read(ref _commits);

    public async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> write, CancellationToken cancellationToken)
    {
        var pending = new PendingWrite<T>(write);
        _queue.Enqueue(pending);

        // The caller that finds the writer free runs batches until its own write is done; writers
        // that find it busy only wait for their outcome, so no lock is handed from waiter to waiter.
        if (_writerLock.Wait(0, CancellationToken.None))
        {
            try
            {
                while (!pending.Task.IsCompleted)
                {
                    await CommitQueuedAsync();
                }
            }
            finally
            {
                ReleaseWriter();
            }
        }

        try
        {
            return await pending.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (pending.TryAbandon())
        {
            throw;
        }
        catch (OperationCanceledException) when (!pending.Task.IsCompleted)
        {
            // A batch has taken this write: it is seen through to its outcome.
            return await pending.Task;
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> while no batch holds the writer. Whoever holds the writer runs
    /// it before its next batch, so writers that never pause cannot starve it; when nobody holds the
    /// writer, the calling thread takes it and runs the action itself.
    /// </summary>
    public void Exclusive(Action action, CancellationToken cancellationToken)
    {
        var request = new ExclusiveAction(action);
        Volatile.Write(ref _exclusive, request);
        try
        {
            while (Task.WaitAny([request.Completion], (int)ExclusivePoll.TotalMilliseconds, cancellationToken) < 0)
            {
                if (_writerLock.Wait(0, CancellationToken.None))
                {
                    try
                    {
                        RunExclusive();
                    }
                    finally
                    {
                        ReleaseWriter();
                    }
                }
            }
        }
        finally
        {
            // Withdrawn if still waiting; once taken, it is seen through, so the caller may close what it uses.
            if (Interlocked.CompareExchange(ref _exclusive, null, request) != request)
            {
                Task.WaitAny([request.Completion], Timeout.Infinite, CancellationToken.None);
            }
        }

        request.Completion.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Closes the writer once no batch holds it. A batch still running after <see cref="CloseWait"/>
    /// keeps it: closing a connection under a running statement is undefined in SQLite's
    /// multi-thread mode, and that batch's commit, if it completes, is durable all the same.
    /// </summary>
    public void Dispose()
    {
        if (_writerLock.Wait(CloseWait))
        {
            writer.Dispose();
            _writerLock.Dispose();
        }
    }

    /// <summary>
    /// Lets go of the writer; writes queued meanwhile (whose callers found it busy) get a batch on
    /// the thread pool. Checking the queue after letting go, as writers check the lock after
    /// queueing, means no write is left queued with nobody to run it.
    /// </summary>
    private void ReleaseWriter()
    {
        _writerLock.Release();
        if (!_queue.IsEmpty && _writerLock.Wait(0))
        {
            _ = Task.Run(DrainAsync);
        }
    }

    private async Task DrainAsync()
    {
        try
        {
            while (!_queue.IsEmpty)
            {
                await CommitQueuedAsync();
            }
        }
        finally
        {
            ReleaseWriter();
        }
    }

    /// <summary>Runs the exclusive action waiting, if any: only while holding the writer.</summary>
    private void RunExclusive() => Interlocked.Exchange(ref _exclusive, null)?.Run();

    private async Task CommitQueuedAsync()
    {
        RunExclusive();
        var batch = new List<PendingWrite>();
        while (batch.Count < MaxBatch && _queue.TryDequeue(out var next))
        {
            if (next.TryTake())
            {
                batch.Add(next);
            }
        }

        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            if (!await TryCommitAsync(batch, inSavepoints: false))
            {
                await TryCommitAsync(batch, inSavepoints: true);
            }

            Interlocked.Increment(ref _commits);
        }
        catch (Exception failure)
        {
            // The transaction itself failed (begin, a savepoint or the commit): none of the batch was written.
            var reported = failure is SqliteException sqlite
                ? new StorageUnavailableException($"SQLite write failed: {sqlite.Message}", sqlite)
                : failure;
            foreach (var write in batch)
            {
                write.Fail(reported);
            }

            return;
        }

        committed?.Invoke();
        foreach (var write in batch)
        {
            write.Complete();
        }
    }

    /// <summary>
    /// Runs the batch in one transaction and commits it. Without savepoints, a write that fails rolls
    /// the whole transaction back and returns false, so the batch can run again in savepoints; in
    /// savepoints, a write that fails is undone alone and the rest commit.
    /// </summary>
    private async Task<bool> TryCommitAsync(List<PendingWrite> batch, bool inSavepoints)
    {
        using var transaction = writer.BeginTransaction();
        foreach (var write in batch)
        {
            write.Reset();
            if (inSavepoints)
            {
                await RunInSavepointAsync(write, transaction);
            }
            else if (!await TryRunAsync(write, transaction))
            {
                transaction.Rollback();
                return false;
            }
        }

        transaction.Commit();
        return true;
    }

    private async Task<bool> TryRunAsync(PendingWrite write, SqliteTransaction transaction)
    {
        try
        {
            await write.RunAsync(writer, transaction);
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }

    private async Task RunInSavepointAsync(PendingWrite write, SqliteTransaction transaction)
    {
        await ExecuteAsync(Savepoint, transaction);
        try
        {
            await write.RunAsync(writer, transaction);
        }
        catch (Exception failure)
        {
            // A write cancelled or failed part-way is undone alone; if SQLite already rolled back the
            // whole transaction, this throws and the batch fails as one.
            await ExecuteAsync(RollbackToSavepoint, transaction);
            write.Failed(failure is SqliteException sqlite
                ? new StorageUnavailableException($"SQLite write failed: {sqlite.Message}", sqlite)
                : failure);
        }

        await ExecuteAsync(Release, transaction);
    }

    private async Task ExecuteAsync(string sql, SqliteTransaction transaction)
    {
        using var statement = PreparedStatements.For(writer, transaction, sql, []);
        await statement.ExecuteNonQueryAsync(CancellationToken.None);
    }

    private abstract class PendingWrite
    {
        private const int Queued = 0;
        private const int Taken = 1;
        private const int Abandoned = 2;

        private int _state;

        public bool IsQueued => Volatile.Read(ref _state) == Queued;

        public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Queued) == Queued;

        public bool TryAbandon() => Interlocked.CompareExchange(ref _state, Abandoned, Queued) == Queued;

        public abstract Task RunAsync(SqliteConnection connection, SqliteTransaction transaction);

        /// <summary>Forgets the outcome of a run that was rolled back, before the write runs again.</summary>
        public abstract void Reset();

        /// <summary>Records this write's own failure, reported once the batch is settled.</summary>
        public abstract void Failed(Exception failure);

        /// <summary>The batch committed: the caller gets its result, or its own failure.</summary>
        public abstract void Complete();

        /// <summary>The batch did not commit.</summary>
        public abstract void Fail(Exception failure);
    }

    private sealed class PendingWrite<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> write) : PendingWrite
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private Exception? _failure;

        public Task<T> Task => _completion.Task;

        public override async Task RunAsync(SqliteConnection connection, SqliteTransaction transaction) =>
            _result = await write(connection, transaction);

        public override void Reset()
        {
            _result = default;
            _failure = null;
        }

        public override void Failed(Exception failure) => _failure = failure;

        public override void Complete()
        {
            if (_failure is null)
            {
                _completion.SetResult(_result!);
            }
            else
            {
                _completion.SetException(_failure);
            }
        }

        public override void Fail(Exception failure) => _completion.SetException(failure);
    }

    /// <summary>An action waiting for the writer, and its outcome.</summary>
    private sealed class ExclusiveAction(Action action)
    {
        private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Completion => _completion.Task;

        public void Run()
        {
            try
            {
                action();
                _completion.SetResult();
            }
            catch (Exception failure)
            {
                _completion.SetException(failure);
            }
        }
    }
}
