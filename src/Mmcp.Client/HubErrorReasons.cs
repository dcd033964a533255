namespace Mmcp.Client;

/// <summary>The values of <see cref="HubException.Reason"/>: stable names a program can act on, where a code alone says too little.</summary>
public static class HubErrorReasons
{
    /// <summary>A sign-in: the authorization server refused it (the user denied it, or it answered with an <c>error</c>).</summary>
    public const string SignInRefused = "sign_in_refused";

    /// <summary>A sign-in: the browser came back with a state that is not the one sent (another request's answer, or a forged one).</summary>
    public const string SignInStateMismatch = "sign_in_state_mismatch";

    /// <summary>A sign-in: the authorization server's answer carried no authorization code.</summary>
    public const string SignInNoCode = "sign_in_no_code";
}
