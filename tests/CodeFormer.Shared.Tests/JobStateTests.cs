using CodeFormer.Shared.Jobs;

namespace CodeFormer.Shared.Tests;

public sealed class JobStateTests
{
    [Theory]
    [InlineData(JobState.AwaitingUpload, JobState.Queued)]
    [InlineData(JobState.AwaitingUpload, JobState.Rejected)]
    [InlineData(JobState.AwaitingUpload, JobState.Cancelled)]
    [InlineData(JobState.AwaitingUpload, JobState.Expired)]
    [InlineData(JobState.Queued, JobState.Running)]
    [InlineData(JobState.Queued, JobState.Cancelled)]
    [InlineData(JobState.Running, JobState.Running)]
    [InlineData(JobState.Running, JobState.Succeeded)]
    [InlineData(JobState.Running, JobState.Failed)]
    public void Legal_transitions_are_allowed(JobState from, JobState to) => Assert.True(JobTransitions.IsLegal(from, to));

    [Theory]
    [InlineData(JobState.Running, JobState.Cancelled)]
    [InlineData(JobState.Queued, JobState.Succeeded)]
    [InlineData(JobState.AwaitingUpload, JobState.Running)]
    [InlineData(JobState.Succeeded, JobState.Failed)]
    [InlineData(JobState.Rejected, JobState.Queued)]
    [InlineData(JobState.Cancelled, JobState.Queued)]
    [InlineData(JobState.Failed, JobState.Running)]
    [InlineData(JobState.Queued, JobState.Expired)]
    [InlineData(JobState.Running, JobState.Expired)]
    [InlineData(JobState.Expired, JobState.Queued)]
    [InlineData(JobState.Expired, JobState.AwaitingUpload)]
    public void Illegal_transitions_throw_naming_both_states(JobState from, JobState to)
    {
        Assert.False(JobTransitions.IsLegal(from, to));
        var error = Assert.Throws<IllegalJobTransitionException>(() => JobTransitions.EnsureLegal("abc", from, to));
        Assert.Contains(from.ToString(), error.Message);
        Assert.Contains(to.ToString(), error.Message);
    }

    [Fact]
    public void Finished_states_are_terminal()
    {
        Assert.All([JobState.Succeeded, JobState.Failed, JobState.Rejected, JobState.Cancelled, JobState.Expired], s => Assert.True(s.IsTerminal()));
        Assert.All([JobState.AwaitingUpload, JobState.Queued, JobState.Running], s => Assert.False(s.IsTerminal()));
    }
}
