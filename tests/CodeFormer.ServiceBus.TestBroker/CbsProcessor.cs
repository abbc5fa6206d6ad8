using Amqp;
using Amqp.Framing;
using Amqp.Listener;

namespace CodeFormer.Testing.ServiceBus;

/// <summary>
/// The claims-based-security node. The SDK puts a SAS token here before it attaches to an entity; the test
/// broker accepts every token (there is no authorisation to test against).
/// </summary>
internal sealed class CbsProcessor : IRequestProcessor
{
    public int Credit => 100;

    public void Process(RequestContext requestContext)
    {
        var response = new Message
        {
            ApplicationProperties = new ApplicationProperties(),
        };
        response.ApplicationProperties["status-code"] = 202;
        response.ApplicationProperties["status-description"] = "Accepted";
        requestContext.Complete(response);
    }
}
