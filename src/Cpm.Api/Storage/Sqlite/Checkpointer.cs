using Cpm.Api.Telemetry;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Cpm.Api.Storage.Sqlite;

/// <summary>
/// Copies the write-ahead log into the database on its own connection and thread (not the thread
/// pool's, which a heavy write load can keep busy for seconds), so the writer
/// only appends to the log and syncs it. SQLite's automatic checkpoint is off on the writer. After
/// a commit, a passive checkpoint copies what it can without blocking anyone. A passive checkpoint
/// never catches up with a writer that keeps committing, and the log only starts over when a write
/// begins with every frame copied, so once the log passes <see cref="RestartFrames"/> passive
/// checkpoints catch up and then one runs while no batch holds the writer: it copies the rest, and
/// the next batch starts the log over from its beginning. A reader still reading old frames can hold that back, as it
/// would any checkpoint; the next round tries again. Acknowledged writes are in the synced log
/// throughout, and each checkpoint syncs the database before the log is reused. The frames each
/// checkpoint copies, and how long each one that held the writer took, are measured.
/// </summary>
internal sealed class Checkpointer : IDisposable
{
    // 8,192 frames of 4 KiB: a 32 MiB log at most while checkpoints keep up.
    public const int RestartFrames = 8192;

    // Passive checkpoints run back to back before the writer is paused, at most this many...
    private const int CatchUpRounds = 8;

    // ...until one finds fewer new frames than this: the pause then copies about as few.
    private const int CatchUpFrames = 64;

    // Commits in between share a checkpoint: a page written by many of them is copied once.
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(100);

    private readonly SqliteConnection _connection;
    private readonly GroupCommit _commits;
    private readonly SemaphoreSlim _committed = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly CpmMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _restartFrames;
    private readonly Thread _thread;
    private long _checkpoints;

    // The log's frames and the frames copied from it after the last checkpoint (its thread's or the writer's, never both at once).
    private int _logFrames;
    private int _copiedFrames;

    public Checkpointer(string connectionString, GroupCommit commits, CpmMetrics metrics, TimeProvider time, ILogger logger, int restartFrames = RestartFrames)
    {
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        using (var settings = _connection.CreateCommand())
        {
            // The checkpoint's syncs follow the connection that runs it.
            settings.CommandText = "PRAGMA synchronous = FULL;";
            settings.ExecuteNonQuery();
        }

        _commits = commits;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _restartFrames = restartFrames;
        _thread = new Thread(Run) { IsBackground = true, Name = "SQLite checkpointer" };
        _thread.Start();
    }

    /// <summary>Checkpoints run so far, passive and exclusive.</summary>
    public long Checkpoints => Interlocked.Read(ref _checkpoints);

    /// <summary>Called after each commit: wakes the checkpointer if it is waiting.</summary>
    public void Committed()
    {
        if (_committed.CurrentCount == 0)
        {
            try
            {
                _committed.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another commit woke it first.
            }
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _thread.Join();
        _connection.Dispose();
        _stopping.Dispose();
        _committed.Dispose();
    }

    private void Run()
    {
        var stopping = _stopping.Token;
        try
        {
            while (true)
            {
                _committed.Wait(stopping);
                try
                {
                    var frames = Checkpoint();
                    if (frames >= _restartFrames && CatchUp(frames))
                    {
                        _commits.Exclusive(CheckpointHoldingWriter, stopping);
                    }
                }
                catch (StorageUnavailableException failure)
                {
                    // The writer is unaffected (its commits are in the synced log); the next commit tries again.
                    _logger.LogWarning(failure, "Checkpoint failed");
                }

                if (stopping.WaitHandle.WaitOne(Pause))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>
    /// Passive checkpoints back to back, each copying the frames committed while the one before ran,
    /// until a round finds few new ones, so the pause that follows copies, and syncs to the database,
    /// only what the last round left rather than everything committed since the round before.
    /// Returns false when the log has started over meanwhile (a batch began with every frame copied),
    /// so no pause is needed, or when a round could not run at all, so the next wake-up tries again.
    /// </summary>
    private bool CatchUp(int frames)
    {
        for (var round = 0; round < CatchUpRounds; round++)
        {
            var next = Checkpoint();
            if (next < frames)
            {
                return false;
            }

            if (next - frames < CatchUpFrames)
            {
                return true;
            }

            frames = next;
        }

        return true;
    }

    /// <summary>Runs while no batch holds the writer: a checkpoint, timed.</summary>
    private void CheckpointHoldingWriter()
    {
        var started = _time.GetTimestamp();
        Checkpoint(heldWriter: true);
        _metrics.WriterPaused(_time.GetElapsedTime(started));
    }

    /// <summary>A passive checkpoint; returns the frames in the log.</summary>
    private int Checkpoint(bool heldWriter = false)
    {
        // Busy means a reader or writer held it back; the log is copied as far as it could be, and
        // the next round goes on from there.
        var result = raw.sqlite3_wal_checkpoint_v2(_connection.Handle, "main", raw.SQLITE_CHECKPOINT_PASSIVE, out var frames, out var copied);
        if (result is not (raw.SQLITE_OK or raw.SQLITE_BUSY or raw.SQLITE_LOCKED))
        {
            throw new StorageUnavailableException($"SQLite checkpoint failed: {raw.sqlite3_errstr(result).utf8_to_string()}");
        }

        Interlocked.Increment(ref _checkpoints);
        if (frames < 0)
        {
            // It could not run at all (SQLite gives -1 for both counts).
            return 0;
        }

        // SQLite counts the frames copied since the log last started over; fewer frames in the log,
        // or fewer copied, than at the last checkpoint mean it has started over since.
        var restarted = frames < _logFrames || copied < _copiedFrames;
        _metrics.Checkpointed(restarted ? copied : copied - _copiedFrames, heldWriter);
        _logFrames = frames;
        _copiedFrames = copied;
        return frames;
    }
}
