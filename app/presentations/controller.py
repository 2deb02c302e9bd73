from __future__ import annotations

from typing import Any

from litestar import Controller, Response, delete, get, post
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app.i18n import negotiate
from app.presentations import service
from app.presentations.schemas import PresentationIn, PresentationOut, VerificationOut, VerifyIn
from app.security import AnyRequest, PrincipalRequest, citizen_only
from app.wallet import keys

# The verify endpoint needs no sign-in, so it is throttled per client address.
verify_limit = RateLimitConfig(rate_limit=("minute", 120), store="verify-presentations")
# Verifiers may keep the key set this long; one that meets an unknown `kid` fetches it again.
JWKS_MAX_AGE_SECONDS = 300


class PresentationController(Controller):
    path = "/api/v1/me"
    tags = ["presentations"]
    guards = [citizen_only]

    @post("/documents/{document_id:str}/presentations", status_code=HTTP_201_CREATED)
    async def create(
        self, request: PrincipalRequest, document_id: FromPath[str], data: JSONBody[PresentationIn]
    ) -> PresentationOut:
        """Show one document: a short-lived signed token (for a QR code) with only the claims in `disclose`."""
        return await service.create(request.user.object_id, document_id, data)

    @delete("/presentations/{presentation_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def withdraw(self, request: PrincipalRequest, presentation_id: FromPath[str]) -> None:
        """Withdraw a code before it expires: the online check refuses it from now on."""
        await service.withdraw(request.user.object_id, presentation_id)


class VerifyController(Controller):
    path = "/api/v1/verify"
    tags = ["presentations"]

    @post("/", status_code=200, middleware=[verify_limit.middleware])
    async def verify(self, request: AnyRequest, data: JSONBody[VerifyIn]) -> VerificationOut:
        """Check a presentation online (no sign-in): signature, expiry, single use, and whether the document
        has since been revoked, suspended, replaced or has expired. A refusal is problem+json whose `code`
        says why and whose `detail` can be shown to the verifier as it is."""
        language = negotiate(request.headers.get("accept-language"))
        return await service.verify_online(data.token, data.verifier, language, request.app.state.queue_pool)


class JwksController(Controller):
    path = "/.well-known"
    tags = ["presentations"]

    @get("/jwks.json")
    async def jwks(self) -> Response[dict[str, Any]]:
        """The platform's public signing keys (JWKS, RFC 7517): every key that ever signed stays listed."""
        return Response(
            await keys.jwks(),
            headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE_SECONDS}"},
            media_type="application/jwk-set+json",
        )
