using CodeFormer.Engine.Tasks;
using CodeFormer.Shared.Jobs;

namespace CodeFormer.GpuRunner.Tests;

/// <summary>
/// The job contract's task (src/Shared, which must not reference the engine) and the engine's FaceTask are two enums
/// for one list: when the worker maps one to the other, they must name the same tasks in the same order.
/// </summary>
public sealed class JobTaskContractTests
{
    [Fact]
    public void The_contract_s_tasks_are_the_engine_s_face_tasks()
    {
        Assert.Equal(Enum.GetNames<FaceTask>(), Enum.GetNames<JobTask>());
        Assert.Equal(Enum.GetValues<FaceTask>().Select(t => (int)t), Enum.GetValues<JobTask>().Select(t => (int)t));
    }
}
