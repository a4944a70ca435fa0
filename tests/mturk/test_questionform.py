"""The QuestionForm renderer (mturk.questionform): content, FormattedContent sanitising, answer
specifications, replays of a worker's answers, and documents it cannot read."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from mturk.questionform import render_question_form

QF_NS = (
    "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd"
)
HOSTILE = '"><script>alert(1)</script>'


# --- helpers -------------------------------------------------------------------------------------


class Page(HTMLParser):
    """Start tags with their (unescaped) attributes, and the text inside each element we care for."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: dict[str, list[str]] = {}
        self._open: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._open.append(tag)
        self.texts.setdefault(tag, []).append("")

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in self._open:
            while self._open and self._open.pop() != tag:
                pass

    def handle_data(self, data):
        if self._open:
            self.texts[self._open[-1]][-1] += data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            found
            for name, found in self.tags
            if name == tag and all(found.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def one(self, tag: str, **attrs: str) -> dict[str, str | None]:
        matches = self.find(tag, **attrs)
        assert len(matches) == 1, (tag, attrs, matches)
        return matches[0]

    def textarea(self, name: str) -> str:
        # html.parser (3.11) does not treat textarea as raw text, so read between the tags.
        textareas = [attrs for tag, attrs in self.tags if tag == "textarea"]
        index = next(n for n, attrs in enumerate(textareas) if attrs.get("name") == name)
        return self.texts["textarea"][index]


def question_form(*parts: str) -> str:
    return f'<QuestionForm xmlns="{QF_NS}">{"".join(parts)}</QuestionForm>'


OVERVIEW = """
<Overview>
  <Title>Game 01523, "X" to play</Title>
  <Text>Is 3 &lt; 4 &amp; &lt;b&gt;bold&lt;/b&gt; shown verbatim?</Text>
  <List><ListItem>It must be a valid move.</ListItem><ListItem>"X" cannot resign.</ListItem></List>
  <Binary>
    <MimeType><Type>image</Type><SubType>gif</SubType></MimeType>
    <DataURL>https://example.org/board.gif</DataURL>
    <AltText>The game board, with "X" to move.</AltText>
  </Binary>
  <Binary>
    <MimeType><Type>video</Type><SubType>mp4</SubType></MimeType>
    <DataURL>javascript:alert(1)</DataURL>
    <AltText>A clip with a bad URL</AltText>
  </Binary>
  <EmbeddedBinary>
    <EmbeddedMimeType><Type>audio</Type><SubType>mpeg</SubType></EmbeddedMimeType>
    <DataURL>https://example.org/clip.mp3</DataURL>
    <AltText>A clip</AltText><Width>300</Width><Height>40</Height>
  </EmbeddedBinary>
  <FormattedContent><![CDATA[<p align="center" onclick="steal()" style="color:red">Hello <b>bold</b>
    <a href="javascript:alert(1)">bad link</a> <a href="https://example.org/">good link</a></p>
    <script>alert("formatted")</script><table border="1"><tr><td>X</td></tr></table><i>unclosed]]></FormattedContent>
</Overview>
"""

QUESTIONS = """
<Question>
  <QuestionIdentifier>nextmove</QuestionIdentifier>
  <DisplayName>The Next Move</DisplayName>
  <IsRequired>true</IsRequired>
  <QuestionContent><Text>What are the coordinates of the best move?</Text></QuestionContent>
  <AnswerSpecification><FreeTextAnswer>
    <Constraints><Length minLength="2" maxLength="2"/><AnswerFormatRegex regex="^[A-C][1-3]$" errorText="Like C1."/></Constraints>
    <DefaultText>C1</DefaultText>
  </FreeTextAnswer></AnswerSpecification>
</Question>
<Question>
  <QuestionIdentifier>age</QuestionIdentifier>
  <QuestionContent><Text>How old is the game, in days?</Text></QuestionContent>
  <AnswerSpecification><FreeTextAnswer>
    <Constraints><IsNumeric minValue="100" maxValue="999"/><AnswerFormatRegex regex="\\d+" flags="i" errorText="Digits."/></Constraints>
  </FreeTextAnswer></AnswerSpecification>
</Question>
<Question>
  <QuestionIdentifier>story</QuestionIdentifier>
  <QuestionContent><Text>Tell the story.</Text></QuestionContent>
  <AnswerSpecification><FreeTextAnswer><NumberOfLinesSuggestion>4</NumberOfLinesSuggestion></FreeTextAnswer></AnswerSpecification>
</Question>
<Question>
  <QuestionIdentifier>likelytowin</QuestionIdentifier>
  <DisplayName>Chances</DisplayName>
  <IsRequired>true</IsRequired>
  <QuestionContent><Text>How likely is a win?</Text></QuestionContent>
  <AnswerSpecification><SelectionAnswer>
    <StyleSuggestion>radiobutton</StyleSuggestion>
    <Selections>
      <Selection><SelectionIdentifier>notlikely</SelectionIdentifier><Text>Not likely</Text></Selection>
      <Selection><SelectionIdentifier>likely</SelectionIdentifier><FormattedContent><![CDATA[<b>Likely</b>]]></FormattedContent></Selection>
    </Selections>
  </SelectionAnswer></AnswerSpecification>
</Question>
<Question>
  <QuestionIdentifier>pieces</QuestionIdentifier>
  <QuestionContent><Text>Which pieces moved?</Text></QuestionContent>
  <AnswerSpecification><SelectionAnswer>
    <MinSelectionCount>1</MinSelectionCount><MaxSelectionCount>3</MaxSelectionCount>
    <StyleSuggestion>checkbox</StyleSuggestion>
    <Selections>
      <Selection><SelectionIdentifier>x1</SelectionIdentifier><Text>X one</Text></Selection>
      <Selection><SelectionIdentifier>x2</SelectionIdentifier><Text>X two</Text></Selection>
      <Selection><SelectionIdentifier>o1</SelectionIdentifier><Text>O one</Text></Selection>
      <OtherSelection><Constraints><Length maxLength="20"/></Constraints></OtherSelection>
    </Selections>
  </SelectionAnswer></AnswerSpecification>
</Question>
<Question>
  <QuestionIdentifier>colour</QuestionIdentifier>
  <QuestionContent><Text>Colour of X?</Text></QuestionContent>
  <AnswerSpecification><SelectionAnswer>
    <StyleSuggestion>dropdown</StyleSuggestion>
    <Selections>
      <Selection><SelectionIdentifier>red</SelectionIdentifier><Text>Red</Text></Selection>
      <Selection><SelectionIdentifier>blue</SelectionIdentifier><Text>Blue &amp; green</Text></Selection>
    </Selections>
  </SelectionAnswer></AnswerSpecification>
</Question>
<Question>
  <QuestionIdentifier>tags</QuestionIdentifier>
  <QuestionContent><Text>Tags?</Text></QuestionContent>
  <AnswerSpecification><SelectionAnswer>
    <MinSelectionCount>0</MinSelectionCount><MaxSelectionCount>2</MaxSelectionCount>
    <StyleSuggestion>list</StyleSuggestion>
    <Selections>
      <Selection><SelectionIdentifier>t1</SelectionIdentifier><Text>Tag one</Text></Selection>
      <Selection><SelectionIdentifier>t2</SelectionIdentifier><Text>Tag two</Text></Selection>
      <Selection><SelectionIdentifier>t3</SelectionIdentifier><Text>Tag three</Text></Selection>
    </Selections>
  </SelectionAnswer></AnswerSpecification>
</Question>
<Question>
  <QuestionIdentifier>scan</QuestionIdentifier>
  <QuestionContent><Text>Upload a scan.</Text></QuestionContent>
  <AnswerSpecification><FileUploadAnswer><MaxFileSizeInBytes>3000000</MaxFileSizeInBytes><MinFileSizeInBytes>1000</MinFileSizeInBytes></FileUploadAnswer></AnswerSpecification>
</Question>
"""

FULL_FORM = question_form(OVERVIEW, QUESTIONS)


# --- QuestionForm renderer -----------------------------------------------------------------------


def test_question_form_overview_content_is_rendered_and_formatted_content_sanitised():
    page = Page(render_question_form(FULL_FORM))

    assert page.texts["h2"] == ['Game 01523, "X" to play']
    assert "Is 3 < 4 & <b>bold</b> shown verbatim?" in page.texts["p"]
    assert page.texts["li"][:2] == ["It must be a valid move.", '"X" cannot resign.']
    assert (
        page.one("img", src="https://example.org/board.gif")["alt"]
        == 'The game board, with "X" to move.'
    )
    assert page.find("video") == []  # a javascript: DataURL is not rendered, only its alt text
    assert "A clip with a bad URL" in page.texts["p"]
    assert page.one("audio") == {"controls": None, "width": "300", "height": "40"}
    assert page.one("source", src="https://example.org/clip.mp3")["type"] == "audio/mpeg"
    # FormattedContent: allowed tags and attributes stay; script, handlers, styles, javascript: go.
    assert page.one("p", align="center") == {"align": "center"}
    assert page.find("a") == [{}, {"href": "https://example.org/"}]
    assert [tag for tag, _ in page.tags].count("script") == 0
    assert page.one("table") == {"border": "1"}
    assert 'alert("formatted")' not in render_question_form(FULL_FORM)


def test_free_text_answers_carry_their_constraints():
    markup = render_question_form(FULL_FORM)
    page = Page(markup)

    nextmove = page.one("input", name="nextmove")
    assert nextmove == {
        "type": "text",
        "name": "nextmove",
        "maxlength": "2",
        "minlength": "2",
        "pattern": "^[A-C][1-3]$",
        "required": None,
        "value": "C1",
    }
    age = page.one("input", name="age")
    assert age["inputmode"] == "numeric"
    assert "pattern" not in age  # HTML patterns have no flags: shown as text instead
    assert "A number from 100 to 999." in page.texts["li"]
    assert "Must match /\\d+/i: “Digits.”" in page.texts["li"]
    assert "Between 2 and 2 characters." in page.texts["li"]
    assert page.one("textarea", name="story")["rows"] == "4"
    assert page.find("h3")[0] == {"class": "display-name"}
    assert [text.strip() for text in page.texts["h3"]] == ["The Next Move", "Chances"]
    assert len(page.find("span", class_="required")) == 2  # both questions with IsRequired true


def test_selection_answers_follow_their_style_suggestion():
    page = Page(render_question_form(FULL_FORM))

    radios = page.find("input", type="radio", name="likelytowin")
    assert [r["value"] for r in radios] == ["notlikely", "likely"]
    assert [c["value"] for c in page.find("input", type="checkbox", name="pieces")] == [
        "x1",
        "x2",
        "o1",
    ]
    assert page.one("input", name="pieces.other")["maxlength"] == "20"
    dropdown = page.one("select", name="colour")
    assert "multiple" not in dropdown
    assert [o["value"] for o in page.find("option")][:3] == ["", "red", "blue"]
    assert "Blue & green" in page.texts["option"]
    listbox = page.one("select", name="tags")
    assert "multiple" in listbox and listbox["size"] == "3"
    assert "Choose between 1 and 3." in page.texts["p"]
    assert "Choose between 0 and 2." in page.texts["p"]
    assert page.one("input", type="file", name="scan") == {"type": "file", "name": "scan"}
    assert page.find("b")  # the FormattedContent label of a selection is kept as markup


def test_question_form_replay_fills_every_control_and_disables_it():
    answers = {
        "nextmove": "B2",
        "age": "150",
        "story": "Once\nupon a time",
        "likelytowin": "likely",
        "pieces": ["x1", "o1"],
        "pieces.other": "the king",
        "colour": "blue",
        "tags": ["t2", "t3"],
        "scan": "uploaded file k-123 (2048 bytes)",
    }

    page = Page(render_question_form(FULL_FORM, answers))

    assert page.one("input", name="nextmove")["value"] == "B2"
    assert page.one("input", name="age")["value"] == "150"
    assert page.textarea("story") == "Once\nupon a time"
    assert [("checked" in r) for r in page.find("input", name="likelytowin")] == [False, True]
    assert [("checked" in c) for c in page.find("input", name="pieces")] == [True, False, True]
    assert page.one("input", name="pieces.other")["value"] == "the king"
    assert [o["value"] for o in page.find("option") if "selected" in o] == ["blue", "t2", "t3"]
    assert "uploaded file k-123 (2048 bytes)" in page.texts["p"]
    controls = [a for tag, a in page.tags if tag in ("input", "textarea", "select")]
    assert controls and all("disabled" in a for a in controls)
    assert page.find("input", type="file") == []


def test_question_form_replay_keeps_hostile_answers_as_text():
    answers = {
        "nextmove": HOSTILE,
        "story": "</textarea><script>alert(2)</script>",
        "likelytowin": HOSTILE,
    }

    markup = render_question_form(FULL_FORM, answers)
    page = Page(markup)

    assert [tag for tag, _ in page.tags].count("script") == 0
    assert page.one("input", name="nextmove")["value"] == HOSTILE
    assert "&lt;/textarea&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in markup
    assert not any("checked" in r for r in page.find("input", name="likelytowin"))


@pytest.mark.parametrize(
    "xml",
    [
        "<QuestionForm><Question>",  # truncated
        "not xml at all <script>alert(1)</script>",
        '<?xml version="1.0"?><!DOCTYPE q [<!ENTITY e "boom">]><QuestionForm>&e;</QuestionForm>',
        "<HTMLQuestion/>",
        "",
    ],
)
def test_render_question_form_never_raises_and_shows_the_document_as_text(xml):
    markup = render_question_form(xml)
    page = Page(markup)

    assert "This QuestionForm could not be read" in page.texts["p"][0]
    assert page.texts.get("pre", [""])[0] == xml
    assert [tag for tag, _ in page.tags].count("script") == 0
    assert "boom" not in page.texts["p"][0]
