"""What every FHIR view shares: the same tokens and roles as the REST API, FHIR JSON both ways,
errors as OperationOutcome, and searchset Bundles with `_count` paging."""

from __future__ import annotations

from urllib.parse import urlencode

from rest_framework.authentication import SessionAuthentication, TokenAuthentication, get_authorization_header
from rest_framework.parsers import JSONParser
from rest_framework.views import APIView

from scheduling.api.permissions import ActionPermission
from scheduling.fhir import mapping
from scheduling.fhir.errors import fhir_exception_handler
from scheduling.fhir.params import Paging, paging
from scheduling.fhir.rendering import FhirJSONParser, FhirJSONRenderer, FhirOnlyNegotiation

BASE_PATH = "/fhir/r4/"


class BearerTokenAuthentication(TokenAuthentication):
    """The REST API's tokens, sent as `Authorization: Bearer <token>` (what FHIR clients send)
    or `Token <token>` (what the REST API documents)."""

    keyword = "Bearer"

    def authenticate(self, request):
        words = get_authorization_header(request).split()
        if words and words[0].lower() == b"token":
            self.keyword = "Token"  # an instance per request: this changes nothing for others
        return super().authenticate(request)


class FhirView(APIView):
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [ActionPermission]
    renderer_classes = [FhirJSONRenderer]
    parser_classes = [FhirJSONParser, JSONParser]
    content_negotiation_class = FhirOnlyNegotiation
    required_permissions: dict[str, str] = {}
    schema = None  # not in the REST API's OpenAPI schema: the CapabilityStatement describes FHIR

    def get_exception_handler(self):
        return fhir_exception_handler

    def base_url(self) -> str:
        return self.request.build_absolute_uri(BASE_PATH)

    def paging(self, default_count: int = 50) -> Paging:
        return paging(self.request.query_params, default_count=default_count)

    def searchset(self, resources: list[dict], *, total: int, page: Paging, outcome: dict | None = None) -> dict:
        """A searchset Bundle of one page, with self, next and previous links."""
        return mapping.bundle("searchset", resources, base=self.base_url(), total=total,
                              links=self.page_links(total, page), outcome=outcome)

    def page_links(self, total: int, page: Paging) -> dict[str, str]:
        if self.request.method != "GET":
            # Parameters came in a body (POST $find): a link cannot carry them, so only the page itself.
            return {"self": self.request.build_absolute_uri(self.request.path)}
        query = [(name, value) for name, values in self.request.query_params.lists()
                 for value in values if name not in ("_count", "_offset")]

        def url(offset: int) -> str:
            return self.request.build_absolute_uri(self.request.path) + "?" + urlencode(
                query + [("_count", page.count), ("_offset", offset)])

        links = {"self": url(page.offset)}
        if page.count and page.offset + page.count < total:
            links["next"] = url(page.offset + page.count)
        if page.count and page.offset > 0:
            links["previous"] = url(max(page.offset - page.count, 0))
        return links
