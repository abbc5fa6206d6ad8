namespace CodeFormer.Engine.Detection;

/// <summary>
/// biubug6 RetinaFace anchor priors in canvas pixels, in the network's output order: level (steps 8, 16, 32),
/// row, column, then the level's two min sizes ([16,32], [64,128], [256,512]); centres at ((j+0.5)·step, (i+0.5)·step).
/// The reference normalises by the image size and multiplies back; working in pixels is the same arithmetic.
/// </summary>
internal sealed class RetinaFacePriors
{
    private static readonly int[] Steps = [8, 16, 32];
    private static readonly int[][] MinSizes = [[16, 32], [64, 128], [256, 512]];

    private readonly float[] _values;

    public RetinaFacePriors(int canvasWidth, int canvasHeight)
    {
        var values = new List<float>();
        for (int level = 0; level < Steps.Length; level++)
        {
            int step = Steps[level];
            // PriorBox: feature map = ceil(size / step).
            int rows = (canvasHeight + step - 1) / step, cols = (canvasWidth + step - 1) / step;
            for (int i = 0; i < rows; i++)
            {
                for (int j = 0; j < cols; j++)
                {
                    foreach (int minSize in MinSizes[level])
                    {
                        values.Add((j + 0.5f) * step);
                        values.Add((i + 0.5f) * step);
                        values.Add(minSize);
                        values.Add(minSize);
                    }
                }
            }
        }
        _values = values.ToArray();
    }

    public int Count => _values.Length / 4;

    public (float CenterX, float CenterY, float Width, float Height) this[int index] =>
        (_values[4 * index], _values[4 * index + 1], _values[4 * index + 2], _values[4 * index + 3]);
}
