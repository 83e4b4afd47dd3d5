"""WeCom (企业微信) intelligent robot in API mode: URL callbacks in, passive replies and
response_url messages out (docs/wecom.md)."""
