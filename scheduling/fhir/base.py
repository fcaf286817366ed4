"""What every FHIR view shares: the same tokens and roles as the REST API, FHIR JSON both ways,
errors as OperationOutcome, and searchset Bundles with `_count` paging.

Search parameters a search does not know are ignored, as FHIR asks of a server, unless the client
sends `Prefer: handling=strict`: then a 400 names them. Either way the Bundle's `self` link
lists only the parameters the search used, which is how a client sees what was ignored.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from rest_framework.authentication import SessionAuthentication, TokenAuthentication, get_authorization_header
from rest_framework.parsers import JSONParser
from rest_framework.views import APIView

from scheduling.api.permissions import ActionPermission
from scheduling.fhir import mapping
from scheduling.fhir.errors import FhirError, fhir_exception_handler
from scheduling.fhir.params import Paging, paging
from scheduling.fhir.rendering import FhirJSONParser, FhirJSONRenderer, FhirOnlyNegotiation

BASE_PATH = "/fhir/r4/"
# Read by every search: paging, and `_format` (answers are always JSON, see FhirOnlyNegotiation).
COMMON_PARAMS = ("_count", "_offset", "_format")


def strict_handling(request) -> bool:
    """`Prefer: handling=strict` (among other preferences, if any)."""
    preferences = re.split(r"[,;]", request.headers.get("Prefer", ""))
    return any(re.sub(r"\s", "", item).lower() == "handling=strict" for item in preferences)


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
    search_params: dict[str, str] = {}  # name -> FHIR type, for a view that searches
    schema = None  # not in the REST API's OpenAPI schema: the CapabilityStatement describes FHIR

    def get_exception_handler(self):
        return fhir_exception_handler

    def base_url(self) -> str:
        return self.request.build_absolute_uri(BASE_PATH)

    def paging(self, default_count: int = 50) -> Paging:
        return paging(self.request.query_params, default_count=default_count)

    def known_params(self) -> set[str]:
        return set(self.search_params) | set(COMMON_PARAMS)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method == "GET" and self.search_params and "id" not in kwargs:
            self.refuse_unknown(request.query_params)

    def refuse_unknown(self, names) -> None:
        """Under `Prefer: handling=strict`, a 400 naming the parameters the search does not know."""
        unknown = [name for name in names if name not in self.known_params()]
        if unknown and strict_handling(self.request):
            raise FhirError(f"Unknown search parameter{'s' if len(unknown) > 1 else ''}: "
                            f"{', '.join(name[:64] for name in unknown)}. This search takes: "
                            f"{', '.join(sorted(self.known_params()))}.", code="not-supported",
                            expression=unknown[0][:64])

    def searchset(self, resources: list[dict], *, total: int, page: Paging, outcome: dict | None = None,
                  query: list[tuple[str, str]] | None = None) -> dict:
        """A searchset Bundle of one page, with self, next and previous links. `query`: the
        parameters searched by (default: the known ones of the query string)."""
        if query is None:
            query = [(name, value) for name, values in self.request.query_params.lists()
                     if name in self.known_params() for value in values]
        return mapping.bundle("searchset", resources, base=self.base_url(), total=total,
                              links=self.page_links(total, page, query), outcome=outcome)

    def page_links(self, total: int, page: Paging, query: list[tuple[str, str]]) -> dict[str, str]:
        """GET links carrying the search's parameters (those of a POST $find too, so its pages can be followed)."""
        query = [(name, value) for name, value in query if name not in ("_count", "_offset")]

        def url(offset: int) -> str:
            return self.request.build_absolute_uri(self.request.path) + "?" + urlencode(
                query + [("_count", page.count), ("_offset", offset)])

        links = {"self": url(page.offset)}
        if page.count and page.offset + page.count < total:
            links["next"] = url(page.offset + page.count)
        if page.count and page.offset > 0:
            links["previous"] = url(max(page.offset - page.count, 0))
        return links
