"""What X-Ray may record of a function: the AWS calls, never the provider calls, whose URLs can carry
HubSpot's access and refresh tokens (`/oauth/v1/access-tokens/{token}`); and never a handler's answer or
error (cookies, install tokens, tenant data), which the template's Globals turn off."""

TRACED_MODULES = ("boto3", "botocore")
