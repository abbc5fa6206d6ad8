using CodeFormer.Functions.Sweep;
using Microsoft.Azure.Functions.Worker;

namespace CodeFormer.Functions.Functions;

/// <summary>
/// The timer over <see cref="OverdueUploadSweeper"/>: expires API jobs whose photo never arrived. A thin adapter.
/// The schedule is the app setting <c>UploadSweepSchedule</c> (NCRONTAB with seconds; infra/bicep sets every 5 minutes).
/// It is a flat name because the host resolves <c>%name%</c> in trigger attributes from app settings by that name.
/// The timer runs on one instance at a time (the host takes a lock in its own storage), and the sweep is idempotent anyway.
/// </summary>
public sealed class ExpireOverdueUploads(OverdueUploadSweeper sweeper)
{
    public const string ScheduleSetting = "UploadSweepSchedule";

    [Function(nameof(ExpireOverdueUploads))]
    public async Task RunAsync([TimerTrigger("%" + ScheduleSetting + "%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        await sweeper.SweepAsync(cancellationToken);
    }
}
