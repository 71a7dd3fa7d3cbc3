"""CHECK expressions, as Postgres prints them (pg_get_constraintdef), parsed into what a generator can obey.

Pure. `parse` turns `CHECK (((status)::text = ANY (ARRAY['a'::text, 'b'::text])))` into a small tree;
`alternatives` rewrites a tree into OR-of-AND form (NOT pushed down to the atoms), each AND a list
of `Atom`s a row can be built to satisfy. A boolean column used as a condition is the atom
`column = true`; two conditions compared (`(a IS NULL) <> (b IS NULL)`) become both-or-neither
(`=`) or exactly-one (`<>`). Anything outside the supported shapes raises
`Unsupported` saying what was not understood, so the table can be skipped with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product
from typing import TypeGuard, TypeVar

T = TypeVar("T")

MAX_ALTERNATIVES = 64  # OR-of-AND form can grow exponentially; beyond this a CHECK is "too complex"


class Unsupported(Exception):
    """A CHECK expression outside the shapes dbtool can satisfy by construction."""


@dataclass(frozen=True)
class Ref:
    """A column, possibly seen through length()/char_length()/lower()/upper()/jsonb_typeof()."""

    column: str
    function: str | None = None  # "length", "lower", "upper", "json_type" or None


@dataclass(frozen=True)
class Sum:
    """Columns added and subtracted: `subtotal_cents + tip_cents`."""

    terms: tuple[tuple[int, Ref], ...]  # (+1 or -1, column)


@dataclass(frozen=True)
class Atom:
    """One comparison a row must satisfy: `left op right`, right a constant, a list or a column."""

    left: Ref
    op: str  # = <> < <= > >= in notin ~ !~ ~* !~* null notnull mod (~* and !~* ignore case)
    right: object = None  # a constant, a tuple of constants, a Ref, or (modulus, remainder) for "mod"


Node = tuple  # ("and", [nodes]) | ("or", [nodes]) | ("not", node) | ("same", [node, node]) | ("atom", Atom)

TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    | (?P<ident>"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)
    | (?P<op>::|<>|!=|<=|>=|!~~\*|!~~|~~\*|~~|!~\*|!~|~\*|[=<>~%()\[\],*+/-])
    )""",
    re.VERBOSE,
)
COMPARISONS = {"=", "<>", "!=", "<", "<=", ">", ">=", "~", "!~", "~*", "!~*", "~~", "!~~", "~~*", "!~~*"}
NEGATED = {"=": "<>", "<>": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<", "~": "!~", "!~": "~", "~*": "!~*",
           "!~*": "~*", "in": "notin", "notin": "in", "null": "notnull", "notnull": "null", "mod": "notmod",
           "notmod": "mod"}
LIKE_AS_REGEX = {"~~": "~", "!~~": "!~", "~~*": "~*", "!~~*": "!~*"}  # [NOT] LIKE / ILIKE as Postgres prints them
REGEX_OPS = {"~", "!~", "~*", "!~*"}
PREDICATE_ENDS = {"AND", "OR", ")", ""}  # what may follow a whole condition ("" is the end of the text)
FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
LENGTH_FUNCTIONS = {"length", "char_length", "character_length", "octet_length"}
JSON_TYPE_FUNCTIONS = {"jsonb_typeof", "json_typeof"}


def _tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if match is None:
            raise Unsupported(f"cannot read {text[position:position + 20]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else ("end", "")

    def word(self, offset: int = 0) -> str:
        kind, value = self.peek(offset)
        return value.upper() if kind == "ident" else value

    def take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if expected is not None and self.word() != expected:
            raise Unsupported(f"expected {expected}, found {token[1] or 'the end'}")
        self.i += 1
        return token

    def expression(self) -> Node:
        left = self.conjunction()
        parts = [left]
        while self.word() == "OR":
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def conjunction(self) -> Node:
        parts = [self.negation()]
        while self.word() == "AND":
            self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def negation(self) -> Node:
        if self.word() == "NOT":
            self.take()
            return ("not", self.negation())
        return self.predicate()

    def predicate(self) -> Node:
        if self.word() == "(":
            # "(" opens a boolean group or an operand such as (price)::numeric or (a % 5): try the
            # group first, and read it as an operand when it does not close as one.
            start = self.i
            try:
                self.take("(")
                inner = self.expression()
                self.take(")")
                if self.word() in ("=", "<>", "!="):  # (a IS NULL) <> (b IS NULL)
                    op = self.take()[1]
                    return _same(inner, op, self.condition())
                if self.word() in PREDICATE_ENDS:
                    return inner
            except Unsupported:
                pass
            self.i = start
        left = self.operand()
        word = self.word()
        if word == "IS":
            self.take()
            negate = self.word() == "NOT"
            if negate:
                self.take()
            self.take("NULL")
            return ("atom", Atom(_ref(left), "notnull" if negate else "null"))
        if word == "BETWEEN":
            self.take()
            low = self.operand()
            self.take("AND")
            high = self.operand()
            return ("and", [_atom(left, ">=", low), _atom(left, "<=", high)])
        if word in ("IN", "NOT") and (word == "IN" or self.word(1) == "IN"):
            negate = word == "NOT"
            self.take()
            if negate:
                self.take("IN")
            values = self.value_list()
            return ("atom", Atom(_ref(left), "notin" if negate else "in", values))
        if word in COMPARISONS:
            op = "<>" if self.take()[1] == "!=" else word
            if op in ("=", "<>") and _is_column(left) and self.word() == "(":
                start = self.i
                try:  # a boolean column compared with a condition: is_verified = (verified_at IS NOT NULL)
                    return _same(("atom", Atom(left, "=", True)), op, self.condition())
                except Unsupported:
                    self.i = start
            if self.word() in ("ANY", "ALL"):
                quantifier = self.take()[1].upper()
                self.take("(")
                values = self.array()
                self.take(")")
                if quantifier == "ANY" and op == "=":
                    return ("atom", Atom(_ref(left), "in", values))
                if quantifier == "ALL" and op == "<>":
                    return ("atom", Atom(_ref(left), "notin", values))
                raise Unsupported(f"{op} {quantifier} (...)")
            right = self.operand()
            if op in LIKE_AS_REGEX:  # [I]LIKE: the same strings as an anchored regular expression
                if not isinstance(right, str):
                    raise Unsupported("LIKE with something other than a constant pattern")
                op, right = LIKE_AS_REGEX[op], _like_to_regex(right)
            if isinstance(left, tuple) and left[0] == "mod":
                if op != "=" or isinstance(right, Ref):
                    raise Unsupported("a modulo compared other than with =")
                return ("atom", Atom(_ref(left[1]), "mod", (left[2], right)))  # operand() built ("mod", Ref, int)
            return _atom(left, op, right)
        if _is_column(left) and word in PREDICATE_ENDS:
            return ("atom", Atom(left, "=", True))  # a boolean column alone: is_banned AND ...
        raise Unsupported(f"a condition at {self.peek()[1] or 'the end'}")

    def condition(self) -> Node:
        """The right side of `condition = condition`: a group, a boolean column or true/false, then its end."""
        if self.word() == "(":
            self.take("(")
            node = self.expression()
            self.take(")")
        elif self.word() in ("TRUE", "FALSE"):
            node = ("and", []) if self.take()[1].upper() == "TRUE" else ("or", [])  # empty AND holds, empty OR fails
        elif self.peek()[0] == "ident" and self.peek(1)[1] not in ("(", "::"):
            node = ("atom", Atom(Ref(_identifier(self.take()[1])), "=", True))
        else:
            raise Unsupported(f"a condition compared with {self.peek()[1] or 'the end'}")
        if self.word() not in PREDICATE_ENDS:
            raise Unsupported(f"a condition followed by {self.word()}")
        return node

    def operand(self) -> object:
        value = self.term()
        if self.word() == "%":
            self.take()
            modulus = self.term()
            if not isinstance(value, Ref) or not isinstance(modulus, int) or modulus <= 0:
                raise Unsupported("a modulo other than column % positive integer")
            return ("mod", value, modulus)
        if self.word() in ("+", "-") and isinstance(value, Ref) and not value.function:
            terms = [(1, value)]
            while self.word() in ("+", "-"):
                sign = 1 if self.take()[1] == "+" else -1
                term = self.term()
                if not isinstance(term, Ref) or term.function:
                    raise Unsupported("a sum of something other than columns")
                terms.append((sign, term))
            return Sum(tuple(terms))
        if self.word() in ("+", "-", "*", "/"):
            raise Unsupported(f"arithmetic ({self.word()})")
        return value

    def term(self) -> object:
        kind, value = self.peek()
        if value == "(":
            self.take()
            inner = self.operand()
            self.take(")")
            return self._casts(inner)
        if kind == "string":
            self.take()
            return self._casts(value[1:-1].replace("''", "'"))
        if kind == "number":
            self.take()
            return self._casts(float(value) if any(c in value for c in ".eE") else int(value))
        if value == "-" and self.peek(1)[0] == "number":
            self.take()
            number = self.take()[1]
            return self._casts(-(float(number) if "." in number else int(number)))
        if kind == "ident":
            upper = value.upper()
            if upper in ("TRUE", "FALSE"):
                self.take()
                return self._casts(upper == "TRUE")
            if upper == "ARRAY":
                return self._casts(self.array())
            self.take()
            if self.word() == "(":
                return self._casts(self.call(value.lower()))
            return self._casts(Ref(_identifier(value)))
        raise Unsupported(f"an operand at {value or 'the end'}")

    def call(self, name: str) -> object:
        self.take("(")
        argument = self.operand()
        self.take(")")
        if not isinstance(argument, Ref) or argument.function:
            raise Unsupported(f"{name}() of something other than a column")
        if name in LENGTH_FUNCTIONS:
            return Ref(argument.column, "length")
        if name in ("lower", "upper"):
            return Ref(argument.column, name)
        if name in ("btrim", "trim"):
            return argument  # generated text has no surrounding blanks
        if name in JSON_TYPE_FUNCTIONS:
            return Ref(argument.column, "json_type")
        raise Unsupported(f"the function {name}()")

    def array(self) -> tuple[object, ...]:
        if self.word() == "(":
            self.take()
            inner = self.array()
            self.take(")")
            return self._casts(inner)
        self.take("ARRAY")
        self.take("[")
        values = [self.term()]
        while self.word() == ",":
            self.take()
            values.append(self.term())
        self.take("]")
        if any(isinstance(v, Ref) for v in values):
            raise Unsupported("an array holding columns")
        return self._casts(tuple(values))

    def value_list(self) -> tuple[object, ...]:
        self.take("(")
        values = [self.term()]
        while self.word() == ",":
            self.take()
            values.append(self.term())
        self.take(")")
        return tuple(values)

    def _casts(self, value: T) -> T:
        # ::type casts carry no constraint of their own here; skip the type's words and modifiers.
        while self.word() == "::":
            self.take()
            self.take()
            while self.peek()[0] == "ident" and self.word() in ("VARYING", "PRECISION", "WITH", "WITHOUT", "TIME", "ZONE"):
                self.take()
            if self.word() == "(":
                while self.take()[1] != ")":
                    pass
            while self.word() == "[":
                self.take()
                self.take("]")
        return value


def _like_to_regex(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    return "^" + "".join(out) + "$"


def _identifier(value: str) -> str:
    return value[1:-1].replace('""', '"') if value.startswith('"') else value.lower()


def _is_column(value: object) -> TypeGuard[Ref]:
    return isinstance(value, Ref) and value.function is None


def _same(left: Node, op: str, right: Node) -> Node:
    """`left op right` for two conditions: = holds when both hold or neither does, <> when exactly one."""
    node = ("same", [left, right])
    return node if op == "=" else ("not", node)


def _ref(value: object) -> Ref:
    if not isinstance(value, Ref):
        raise Unsupported("a condition on something other than a column")
    return value


def _atom(left: object, op: str, right: object) -> Node:
    if isinstance(left, Sum) and isinstance(right, Ref):
        left, op, right = right, FLIPPED.get(op, op), left
    if isinstance(right, Sum) or isinstance(left, Sum):
        if op != "=" or not isinstance(left, Ref) or left.function or not isinstance(right, Sum):
            raise Unsupported("a sum compared other than column = sum of columns")
        return ("atom", Atom(left, "=", right))
    if not isinstance(left, Ref) and isinstance(right, Ref):
        left, op, right = right, FLIPPED.get(op, op), left
        if op in REGEX_OPS:
            raise Unsupported(f"a pattern on the left of {op}")
    if not isinstance(left, Ref):
        raise Unsupported("a comparison between constants")
    if isinstance(right, tuple):
        raise Unsupported("a comparison with a list")
    return ("atom", Atom(left, op, right))


def parse(definition: str) -> Node:
    """The tree of `CHECK (...)` as pg_get_constraintdef prints it (NOT VALID and NO INHERIT ignored)."""
    text = definition.strip()
    text = re.sub(r"\s+(NOT VALID|NO INHERIT)\s*$", "", text)
    if text.upper().startswith("CHECK"):
        text = text[5:].strip()
    parser = _Parser(text)
    node = parser.expression()
    if parser.peek()[0] != "end":
        raise Unsupported(f"text after the condition: {parser.peek()[1]!r}")
    return node


def alternatives(node: Node, negate: bool = False) -> list[list[Atom]]:
    """OR-of-AND form: a row satisfies the node when it satisfies every atom of one alternative."""
    kind = node[0]
    if kind == "not":
        return alternatives(node[1], not negate)
    if kind == "same":
        p, q = node[1]
        if negate:  # exactly one holds: spelled out, since NOT of both-or-neither would pair P with NOT P
            return alternatives(("or", [("and", [p, ("not", q)]), ("and", [("not", p), q])]))
        return alternatives(("or", [("and", [p, q]), ("and", [("not", p), ("not", q)])]))
    if kind == "atom":
        atom: Atom = node[1]
        if negate and atom.op not in NEGATED:
            raise Unsupported(f"NOT of a {atom.op} comparison")
        return [[Atom(atom.left, NEGATED[atom.op], atom.right)]] if negate else [[atom]]
    parts = [alternatives(child, negate) for child in node[1]]
    is_and = (kind == "and") != negate  # De Morgan
    if not is_and:
        return [alt for part in parts for alt in part][:MAX_ALTERNATIVES]
    combined: list[list[Atom]] = []
    for choice in product(*parts):
        combined.append([atom for alt in choice for atom in alt])
        if len(combined) > MAX_ALTERNATIVES:
            raise Unsupported("too many combinations of AND and OR")
    return combined


def columns_of(atoms: list[Atom]) -> set[str]:
    """Every column an alternative mentions."""
    found = {a.left.column for a in atoms}
    found.update(a.right.column for a in atoms if isinstance(a.right, Ref))
    found.update(ref.column for a in atoms if isinstance(a.right, Sum) for _, ref in a.right.terms)
    return found
