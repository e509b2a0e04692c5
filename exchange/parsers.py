"""Request body parsers: DRF's JSON parser, refusing what it would crash on."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as BaseJSONParser


class JSONParser(BaseJSONParser):
    """A body nested deeper than Python's recursion limit makes the decoder raise
    RecursionError, which DRF does not catch (a 500). It is a malformed body."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON nested too deeply.") from None
