namespace CodeFormer.Engine.Video;

/// <summary>
/// The One-Euro filter (Casiez, Roussel, Vogel, CHI 2012) for one coordinate: a low-pass whose cut-off rises with the
/// signal's speed, so a still face stops jittering while a moving one is followed without visible lag.
/// </summary>
public sealed class OneEuroFilter(double minCutoffHz, double beta, double derivativeCutoffHz = 1.0)
{
    private bool _initialised;
    private double _value;
    private double _derivative;

    public double Filter(double value, double dtSeconds)
    {
        if (!_initialised || dtSeconds <= 0)
        {
            _initialised = true;
            _value = value;
            _derivative = 0;
            return value;
        }
        double rawDerivative = (value - _value) / dtSeconds;
        _derivative += Alpha(derivativeCutoffHz, dtSeconds) * (rawDerivative - _derivative);
        double cutoff = minCutoffHz + beta * Math.Abs(_derivative);
        _value += Alpha(cutoff, dtSeconds) * (value - _value);
        return _value;
    }

    private static double Alpha(double cutoffHz, double dt)
    {
        double tau = 1.0 / (2 * Math.PI * cutoffHz);
        return 1.0 / (1.0 + tau / dt);
    }
}
