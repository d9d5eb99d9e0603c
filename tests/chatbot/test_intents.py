"""Table-driven tests for the chatbot intent parser (chatbot.intents)."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot import intents
from chatbot.intents import INTENT_NAMES, Intent, parse


class Example(NamedTuple):
    text: str
    name: str
    slots: dict
    candidates: tuple | None = None  # checked when not None (always for clarify)


K = "ABCD-1234-EFGH-5678"
ACT_BOTH = ("activate_online", "activate_offline")
DEACT_BOTH = ("deactivate_online", "deactivate_offline")
LIC_BOTH = ("activate_offline", "refresh_offline")


def E(text: str, name: str, slots: dict | None = None,
      candidates: tuple | None = None) -> Example:
    return Example(text, name, slots or {}, candidates)


EXAMPLES: list[Example] = [
    # ---------------------------------------------------------- activate_online
    E(f"activate {K}", "activate_online", {"key": K}),
    E("register key abcd-1234-efgh-5678", "activate_online", {"key": "abcd-1234-efgh-5678"}),
    E(f"Activate my license with key {K}", "activate_online", {"key": K}),
    E(f"please activate {K.lower()} for me", "activate_online", {"key": K.lower()}),
    E(f"ACTIVATE {K}", "activate_online", {"key": K}),
    E("activate online", "activate_online"),
    E("activate my license online", "activate_online"),
    E("activate my licence online please", "activate_online"),
    E("register online", "activate_online"),
    E("activate over the internet", "activate_online"),
    E("activate using the server", "activate_online"),
    E(f"here is my key: {K}", "activate_online", {"key": K}),
    E(f"my license key is {K}", "activate_online", {"key": K}),
    E(K, "activate_online", {"key": K}),
    E(f"'{K}'", "activate_online", {"key": K}),
    E(f"use key {K}", "activate_online", {"key": K}),
    E(f"could you register this copy with {K}?", "activate_online", {"key": K}),
    E("activate with my key", "activate_online"),
    E(f"activate online with key {K}", "activate_online", {"key": K}),
    E("Register Key Ab12-Cd34-Ef56-Gh78", "activate_online", {"key": "Ab12-Cd34-Ef56-Gh78"}),
    E(f"activate {K}.", "activate_online", {"key": K}),
    E("actvate online", "activate_online"),
    E("activte my licnese online", "activate_online"),
    E("I'd like to activate online", "activate_online"),
    E("reactivate online", "activate_online"),
    E("start online activation", "activate_online"),
    # --------------------------------------------------------- activate_offline
    E("activate offline", "activate_offline"),
    E("activate ~/Downloads/ls_activation.lic", "activate_offline",
      {"path": "~/Downloads/ls_activation.lic"}),
    E("activate offline with ~/Downloads/ls_activation.lic", "activate_offline",
      {"path": "~/Downloads/ls_activation.lic"}),
    E(r"activate C:\Users\Bob\Desktop\ls_activation.lic", "activate_offline",
      {"path": r"C:\Users\Bob\Desktop\ls_activation.lic"}),
    E(r'activate "C:\Users\Bob Smith\Desktop\ls_activation.lic"', "activate_offline",
      {"path": r"C:\Users\Bob Smith\Desktop\ls_activation.lic"}),
    E(r"activate C:\Users\Bob Smith\Desktop\ls_activation.lic", "activate_offline",
      {"path": r"C:\Users\Bob Smith\Desktop\ls_activation.lic"}),
    E("activate '/home/bob/My Files/ls_activation.lic'", "activate_offline",
      {"path": "/home/bob/My Files/ls_activation.lic"}),
    E("activate offline with /home/bob/my files/ls_activation.lic", "activate_offline",
      {"path": "/home/bob/my files/ls_activation.lic"}),
    E("activate using ls_activation.lic", "activate_offline", {"path": "ls_activation.lic"}),
    E("activate from ./ls_activation.lic please", "activate_offline",
      {"path": "./ls_activation.lic"}),
    E("activate ~/Downloads/ls_activation.lic.", "activate_offline",
      {"path": "~/Downloads/ls_activation.lic"}),
    E("Activate ~/Downloads/LS_ACTIVATION.LIC", "activate_offline",
      {"path": "~/Downloads/LS_ACTIVATION.LIC"}),
    E("could you please activate my license offline for me?", "activate_offline"),
    E("ACTIVATE OFFLINE", "activate_offline"),
    E("actvate offlne", "activate_offline"),
    E("activate offlien", "activate_offline"),
    E("activate my licence offline", "activate_offline"),
    E("register offline", "activate_offline"),
    E("I need to activate off-line", "activate_offline"),
    E("activate off line", "activate_offline"),
    E("activate without internet", "activate_offline"),
    E("activate on an air-gapped machine", "activate_offline"),
    E("offline activation please", "activate_offline"),
    E("start offline activation", "activate_offline"),
    E("activate from the license file", "activate_offline"),
    E("activate manually", "activate_offline"),
    E(f"activate offline with key {K}", "activate_offline", {"key": K}),
    E(f"activate {K} using ~/ls_activation.lic", "activate_offline",
      {"path": "~/ls_activation.lic", "key": K}),
    E("hey, can you activate my license offline? thanks", "activate_offline"),
    E("Activate Offline Please!", "activate_offline"),
    E("activate with D:/licenses/ls_activation.lic", "activate_offline",
      {"path": "D:/licenses/ls_activation.lic"}),
    E(r"register with \\fileserver\share\ls_activation.lic", "activate_offline",
      {"path": r"\\fileserver\share\ls_activation.lic"}),
    E("activate (~/ls_activation.lic)", "activate_offline", {"path": "~/ls_activation.lic"}),
    E("activate “~/My Downloads/ls_activation.lic”", "activate_offline",
      {"path": "~/My Downloads/ls_activation.lic"}),
    E("activate offline using ~/Downloads/response", "activate_offline",
      {"path": "~/Downloads/response"}),
    # ------------------------------------------------ create_activation_request
    E("create an activation request", "create_activation_request"),
    E("make the request file", "create_activation_request"),
    E("generate ls_activation.req", "create_activation_request", {"path": "ls_activation.req"}),
    E(f"create offline request for {K}", "create_activation_request", {"key": K}),
    E("generate an offline activation request", "create_activation_request"),
    E("please create the activation request file", "create_activation_request"),
    E("save the request to ~/Desktop/ls_activation.req", "create_activation_request",
      {"path": "~/Desktop/ls_activation.req"}),
    E('write the request to "C:\\Users\\Bob Smith\\ls_activation.req"',
      "create_activation_request", {"path": "C:\\Users\\Bob Smith\\ls_activation.req"}),
    E("I need an activation request", "create_activation_request"),
    E("export activation request", "create_activation_request"),
    E("CREATE ACTIVATION REQUEST", "create_activation_request"),
    E("crate an activation reqest", "create_activation_request"),
    E("ls_activation.req", "create_activation_request", {"path": "ls_activation.req"}),
    E("build the offline request", "create_activation_request"),
    E(f"make a request file for key {K.lower()}", "create_activation_request",
      {"key": K.lower()}),
    E("prepare a registration request", "create_activation_request"),
    # ---------------------------------------------------------- deactivate_*
    E("deactivate offline", "deactivate_offline"),
    E("unregister offline", "deactivate_offline"),
    E("release this device offline", "deactivate_offline"),
    E("please deactivate my license offline", "deactivate_offline"),
    E("DEACTIVATE OFFLINE", "deactivate_offline"),
    E("deactivate off-line", "deactivate_offline"),
    E("create a deactivation request", "deactivate_offline"),
    E("deactivate using ~/ls_activation.lic", "deactivate_offline",
      {"path": "~/ls_activation.lic"}),
    E("de-activate this machine offline", "deactivate_offline"),
    E("deregister offline", "deactivate_offline"),
    E("deactivate online", "deactivate_online"),
    E("deactivate my license online", "deactivate_online"),
    E("unregister online", "deactivate_online"),
    E("release my seat online", "deactivate_online"),
    E("release this computer via the server", "deactivate_online"),
    E(f"deactivate {K} online", "deactivate_online", {"key": K}),
    E("Deactivate Online", "deactivate_online"),
    E("could you kindly unregister this machine online?", "deactivate_online"),
    # ---------------------------------------------------------- refresh_offline
    E("refresh", "refresh_offline"),
    E("update license from license_refresh.lic", "refresh_offline",
      {"path": "license_refresh.lic"}),
    E("apply the refresh file X.lic", "refresh_offline", {"path": "X.lic"}),
    E("refresh my license", "refresh_offline"),
    E("refresh my licence offline", "refresh_offline"),
    E("refresh from ~/Downloads/license_refresh.lic", "refresh_offline",
      {"path": "~/Downloads/license_refresh.lic"}),
    E('refresh using "~/My Downloads/license_refresh.lic"', "refresh_offline",
      {"path": "~/My Downloads/license_refresh.lic"}),
    E(r"apply refresh C:\temp\license_refresh.lic", "refresh_offline",
      {"path": r"C:\temp\license_refresh.lic"}),
    E("update my license", "refresh_offline"),
    E("update the license file", "refresh_offline"),
    E("update from ~/refresh.lic", "refresh_offline", {"path": "~/refresh.lic"}),
    E("REFRESH", "refresh_offline"),
    E("refesh my license", "refresh_offline"),
    E("refrsh", "refresh_offline"),
    E("please refresh the license", "refresh_offline"),
    E("apply the license refresh", "refresh_offline"),
    # ------------------------------------------------------------- check_online
    E("check online", "check_online"),
    E("validate with the server", "check_online"),
    E("check my license online", "check_online"),
    E("verify my licence with the server", "check_online"),
    E("validate online", "check_online"),
    E("can you check my license against the server?", "check_online"),
    E("CHECK ONLINE", "check_online"),
    E("chekc online", "check_online"),
    E("do an online check", "check_online"),
    E("online validation please", "check_online"),
    E("verify over the internet", "check_online"),
    # -------------------------------------------------------------- local_check
    E("local check", "local_check"),
    E("check locally", "local_check"),
    E("verify my license offline", "local_check"),
    E("check my license locally", "local_check"),
    E("validate offline", "local_check"),
    E("run a local license check", "local_check"),
    E("LOCAL CHECK", "local_check"),
    E("check lcoally", "local_check"),
    E("verify ~/ls_activation.lic", "local_check", {"path": "~/ls_activation.lic"}),
    E("offline check please", "local_check"),
    E("local validation", "local_check"),
    # ----------------------------------------------------------- license_status
    E("am I licensed?", "license_status"),
    E("is my license valid?", "license_status"),
    E("license status", "license_status"),
    E("what's my license", "license_status"),
    E("why am I not licensed?", "license_status"),
    E("AM I LICENSED", "license_status"),
    E("am i licenced", "license_status"),
    E("status", "license_status"),
    E("show my license", "license_status"),
    E("license info", "license_status"),
    E("what is my license status", "license_status"),
    E('when does my license expire?', 'license_status', {'fact': 'expiry'}),
    E('has my license expired?', 'license_status', {'fact': 'expiry'}),
    E("is this copy activated?", "license_status"),
    E("am I registered?", "license_status"),
    E("what's the activation status", "license_status"),
    E("check my license", "license_status"),
    E("is my licence ok", "license_status"),
    E("why does it say my license is invalid?", "license_status"),
    E('how many credits do I have left', 'license_status', {'fact': 'consumption'}),
    E("licence", "license_status"),
    E("my license", "license_status"),
    E("licnese status", "license_status"),
    E("is the license still valid", "license_status"),
    E("stauts", "license_status"),
    E("lisence", "license_status"),
    # ------------------------------------------------------------ list_features
    E("what features do I have", "list_features"),
    E("list features", "list_features"),
    E("which features are enabled?", "list_features"),
    E("show me my features", "list_features"),
    E("what am I entitled to", "list_features"),
    E("list my entitlements", "list_features"),
    E("FEATURES", "list_features"),
    E("featurs", "list_features"),
    E("which modules does my license include", "list_features"),
    E('is the export feature enabled?', 'license_status', {'fact': 'feature', 'feature': 'export'}),
    # ------------------------------------------------------------------ consume
    E("consume 3", "consume", {"count": 3}),
    E("use two credits", "consume", {"count": 2}),
    E("record 5 uses", "consume", {"count": 5}),
    E("consume five", "consume", {"count": 5}),
    E("use 3 credits", "consume", {"count": 3}),
    E("consume twenty five credits", "consume", {"count": 25}),
    E("consume twenty-five", "consume", {"count": 25}),
    E("spend 10 credits", "consume", {"count": 10}),
    E("deduct one credit", "consume", {"count": 1}),
    E("consume", "consume"),
    E("consume a credit", "consume"),
    E("use a credit", "consume"),
    E("CONSUME 7", "consume", {"count": 7}),
    E("cosume 2", "consume", {"count": 2}),
    E("please consume one hundred credits", "consume", {"count": 100}),
    E("record three uses please", "consume", {"count": 3}),
    E("use 12", "consume", {"count": 12}),
    # ---------------------------------------------------------------- is_online
    E("am I online?", "is_online"),
    E("is the server reachable", "is_online"),
    E("are we connected", "is_online"),
    E("are we online?", "is_online"),
    E("am I offline", "is_online"),
    E("can you reach the server?", "is_online"),
    E("is the license server up?", "is_online"),
    E("do I have internet", "is_online"),
    E("check my connection", "is_online"),
    E("ping the server", "is_online"),
    E("is the internet working", "is_online"),
    E("server status", "is_online"),
    E("check if I'm online", "is_online"),
    E("AM I ONLINE", "is_online"),
    E("is the server down?", "is_online"),
    E("are we conected", "is_online"),
    # ------------------------------------------------------------ clear_storage
    E("clear local storage", "clear_storage"),
    E("wipe license data", "clear_storage"),
    E("forget everything", "clear_storage"),
    E("clear storage", "clear_storage"),
    E("delete all local license data", "clear_storage"),
    E("erase the cache", "clear_storage"),
    E("reset everything", "clear_storage"),
    E("please wipe the stored license", "clear_storage"),
    E("CLEAR LOCAL STORAGE", "clear_storage"),
    E("purge license storage", "clear_storage"),
    E("factory reset", "clear_storage"),
    E("clean local storage", "clear_storage"),
    # ----------------------------------------------------------- reload_license
    E("reload license", "reload_license"),
    E("load license from disk", "reload_license"),
    E("reload", "reload_license"),
    E("reload the licence", "reload_license"),
    E("please reload my license from disk", "reload_license"),
    E("re-read the license file", "reload_license"),
    E("RELOAD LICENSE", "reload_license"),
    E("realod license", "reload_license"),
    E("load the license again", "reload_license"),
    # -------------------------------------------------------------------- help
    E("help", "help"),
    E("what can you do", "help"),
    E('how does offline activation work?', 'help', {'topic': 'offline_activation'}),
    E('how does the refresh work', 'help', {'topic': 'refresh'}),
    E("how does it work?", "help"),
    E("HELP", "help"),
    E("help!", "help"),
    E("help me please", "help"),
    E("I need help", "help"),
    E("help with offline activation", "help"),
    E("what can you do?", "help"),
    E("What else can you do", "help"),
    E('how do I activate offline?', 'help', {'topic': 'offline_activation'}),
    E('how can I deactivate my license?', 'help', {'topic': 'deactivation'}),
    E('explain offline activation', 'help', {'topic': 'offline_activation'}),
    E('what is an activation request?', 'help', {'topic': 'request_file'}),
    E('what is offline activation', 'help', {'topic': 'offline_activation'}),
    E("show commands", "help"),
    E("menu", "help"),
    E("hlep", "help"),
    E("hello", "help"),
    E("how are you?", "help"),  # small talk: greeted back (act greet)
    E("hi there", "help"),
    E('tell me about license refresh', 'help', {'topic': 'refresh'}),
    E("what's the difference between online and offline activation", 'help', {'topic': 'online_vs_offline'}),
    E('who are you?', 'help', {'topic': 'about_bot'}),
    E('is this a bot or a real person?', 'help', {'topic': 'about_bot'}),
    E('could you tell me if this machine is licensed', 'license_status'),  # "this machine" is not the bot
    E('before i wipe local storage, what exactly gets deleted', 'help', {'topic': 'clear_storage'}),
    E('is there a hotkey to leave?', 'help'),
    E("what's the key to quit", 'help'),
    E('how can i use this chatbot', 'help'),
    E('walk me thru refreshing', 'help', {'topic': 'refresh'}),
    E('i was hoping you could run a local check', 'local_check'),
    E('before i sell this laptop, how do i deactivate it', 'help', {'topic': 'deactivation'}),  # the pc sold
    E('we bought a new workstation, how do we move the license over', 'help', {'topic': 'move_license'}),
    E('does the app switch to offline automatically when the internet drops?', 'help', {'topic': 'hybrid'}),
    E('what is the grace period length if the vendor is unreachable for me?', 'help', {'topic': 'grace_period'}),
    E('my friend wants to use my response file on his machine, would that work', 'help',
      {'topic': 'response_reuse'}),
    E('why will it not let me register', 'license_status'),
    E('it keeps telling me the licence is invalid', 'license_status'),
    E('whats my lic number', 'license_status', {'fact': 'license_key'}),
    E('is my lic a subscription?', 'license_status', {'fact': 'license_type'}),
    E('when did we last talk to the license server', 'license_status', {'fact': 'server_contact'}),
    E('how long has it been since we synced with the vendor', 'license_status', {'fact': 'server_contact'}),
    E('am i already holding a seat or not', 'license_status', {'fact': 'seat'}),
    E('do we currently have a lease', 'license_status', {'fact': 'seat'}),
    E('till when is the borrowed seat mine', 'license_status', {'fact': 'seat'}),
    E('is your floating server running', 'list_seats'),
    E('hand back my seat', 'release_seat'),
    E('i want to hand the seat back now', 'release_seat'),
    E('borrow a seat for two days, I will not have the vpn on the trip', 'borrow_seat', {'duration': 172800}),
    E('what is the hw id for', 'help', {'topic': 'hardware_binding'}),
    E('we fly across time zones every week, will the app mind the clock', 'help', {'topic': 'clock_tampering'}),
    E('the vendor raised my activations, will this offline pc notice', 'help', {'topic': 'vendor_changes'}),
    E('how long of a grace period do we get when the vendor is down', 'help', {'topic': 'grace_period'}),
    E('does the joke skill need a license', 'help', {'topic': 'skills'}),
    E('no internet here, how we can activate', 'help', {'topic': 'offline_activation'}),
    E('which features r included on my license', 'list_features'),
    E('when will my seat lease expire', 'license_status', {'fact': 'seat'}),
    E('is this seat a borrowed one', 'license_status', {'fact': 'seat'}),
    E('it would be great if you could refresh my license offline', 'refresh_offline'),
    E('my license key please, the vendor wants it', 'license_status', {'fact': 'license_key'}),
    E('i would like to move to a new pc and deactivate this one, how', 'help', {'topic': 'move_license'}),
    E('convert 2 nautical miles to meters', 'skill_convert',
      {'value': 2, 'unit_from': 'nautical miles', 'unit_to': 'meters'}),
    E("can you help me?", "help"),
    E('how to activate', 'help', {'topic': 'offline_activation'}),
    # -------------------------------------------------------------------- quit
    E("quit", "quit"),
    E("exit", "quit"),
    E("bye", "quit"),
    E("goodbye", "quit"),
    E("QUIT", "quit"),
    E("Bye!", "quit"),
    E("good bye", "quit"),
    E("ok bye", "quit"),
    E("thanks, bye", "quit"),
    E("exit please", "quit"),
    E("see you later", "quit"),
    E("quit the app", "quit"),
    E("close the app", "quit"),
    E("farewell", "quit"),
    E("I want to quit", "quit"),
    # ------------------------------------------------------------- skill_joke
    E("tell me a joke", "skill_joke"),
    E("joke", "skill_joke"),
    E("tell me a funny joke please", "skill_joke"),
    E("make me laugh", "skill_joke"),
    E("TELL ME A JOKE", "skill_joke"),
    E("tell me a jkoe", "skill_joke"),
    E("got any jokes?", "skill_joke"),
    E("say something funny", "skill_joke"),
    # -------------------------------------------------------- skill_wordcount
    E("count words in: the quick brown fox", "skill_wordcount",
      {"text": "the quick brown fox"}),
    E("word count hello world", "skill_wordcount", {"text": "hello world"}),
    E("count the words in 'hello there world'", "skill_wordcount",
      {"text": "hello there world"}),
    E('word count: "one two three four"', "skill_wordcount",
      {"text": "one two three four"}),
    E("how many words are in 'to be or not to be'?", "skill_wordcount",
      {"text": "to be or not to be"}),
    E("please count the words: Lorem ipsum dolor", "skill_wordcount",
      {"text": "Lorem ipsum dolor"}),
    E("Count words in this sentence: I like big dogs", "skill_wordcount",
      {"text": "I like big dogs"}),
    E("can you count the words in “deactivate my license now”", "skill_wordcount",
      {"text": "deactivate my license now"}),
    E("word count", "skill_wordcount"),
    E("count words", "skill_wordcount"),
    E("WORD COUNT OF Hello Big World", "skill_wordcount", {"text": "Hello Big World"}),
    E("give me a word count for: quit now please", "skill_wordcount",
      {"text": "quit now please"}),
    E("word-count the cat sat", "skill_wordcount", {"text": "the cat sat"}),
    E("count the number of words in 'a b c'", "skill_wordcount", {"text": "a b c"}),
    E("count words in ~/notes.txt", "skill_wordcount", {"text": "~/notes.txt"}),
    # ---------------------------------------------------------- skill_convert
    E("convert 10 km to miles", "skill_convert",
      {"value": 10, "unit_from": "km", "unit_to": "miles"}),
    E("how many feet in 3 meters", "skill_convert",
      {"value": 3, "unit_from": "meters", "unit_to": "feet"}),
    E("convert 3.5 inches to cm", "skill_convert",
      {"value": 3.5, "unit_from": "inches", "unit_to": "cm"}),
    E("what is 5 kg in pounds", "skill_convert",
      {"value": 5, "unit_from": "kg", "unit_to": "pounds"}),
    E("CONVERT 10 KM TO MILES", "skill_convert",
      {"value": 10, "unit_from": "KM", "unit_to": "MILES"}),
    E("convert twenty five celsius to fahrenheit", "skill_convert",
      {"value": 25, "unit_from": "celsius", "unit_to": "fahrenheit"}),
    E("convert -40 c to f", "skill_convert",
      {"value": -40, "unit_from": "c", "unit_to": "f"}),
    E("how many cm are in 2 inches?", "skill_convert",
      {"value": 2, "unit_from": "inches", "unit_to": "cm"}),
    E("100 fahrenheit in celsius", "skill_convert",
      {"value": 100, "unit_from": "fahrenheit", "unit_to": "celsius"}),
    E("convert km to miles", "skill_convert", {"unit_from": "km", "unit_to": "miles"}),
    E("convert 10 km", "skill_convert", {"value": 10, "unit_from": "km"}),
    E("please convert 1.5 litres into gallons", "skill_convert",
      {"value": 1.5, "unit_from": "litres", "unit_to": "gallons"}),
    E("convert 60 mph to km/h", "skill_convert",
      {"value": 60, "unit_from": "mph", "unit_to": "km/h"}),
    E("convert 98.6 °F to °C", "skill_convert",
      {"value": 98.6, "unit_from": "°F", "unit_to": "°C"}),
    E("how many feet are there in a mile", "skill_convert",
      {"unit_from": "mile", "unit_to": "feet"}),
    E("how many seconds in one hour", "skill_convert",
      {"value": 1, "unit_from": "hour", "unit_to": "seconds"}),
    E("convert 3 furlongs to parsecs", "skill_convert",
      {"value": 3, "unit_from": "furlongs", "unit_to": "parsecs"}),
    E("convert 5 degrees celsius to kelvin", "skill_convert",
      {"value": 5, "unit_from": "degrees celsius", "unit_to": "kelvin"}),
    E("convert units", "skill_convert"),
    E("unit conversion", "skill_convert"),
    E("convrt 10 km to miles", "skill_convert",
      {"value": 10, "unit_from": "km", "unit_to": "miles"}),
    E("what's 12 oz in grams?", "skill_convert",
      {"value": 12, "unit_from": "oz", "unit_to": "grams"}),
    # ------------------------------------------------------------- skill_dice
    E("roll a d20", "skill_dice", {"sides": 20}),
    E("roll a 6-sided die", "skill_dice", {"sides": 6}),
    E("roll 2 dice with 8 sides", "skill_dice", {"count": 2, "sides": 8}),
    E("roll a die", "skill_dice"),
    E("roll the dice", "skill_dice"),
    E("d20", "skill_dice", {"sides": 20}),
    E("roll 3d6", "skill_dice", {"count": 3, "sides": 6}),
    E("roll two dice", "skill_dice", {"count": 2}),
    E("throw a dice", "skill_dice"),
    E("roll a twelve sided die", "skill_dice", {"sides": 12}),
    E("roll two six-sided dice", "skill_dice", {"count": 2, "sides": 6}),
    E("ROLL A D20", "skill_dice", {"sides": 20}),
    E("roll a die with 10 sides", "skill_dice", {"sides": 10}),
    E("rol a d6", "skill_dice", {"sides": 6}),
    E("roll", "skill_dice"),
    E("can you roll 4 dice for me?", "skill_dice", {"count": 4}),
    E("roll 2 d10", "skill_dice", {"count": 2, "sides": 10}),
    # ------------------------------------------------------------- skill_time
    E("what time is it", "skill_time"),
    E("current time", "skill_time"),
    E("what's the date", "skill_time"),
    E("what time is it?", "skill_time"),
    E("WHAT TIME IS IT", "skill_time"),
    E("what day is it today", "skill_time"),
    E("today's date please", "skill_time"),
    E("tell me the time", "skill_time"),
    E("time", "skill_time"),
    E("date", "skill_time"),
    E("what is today", "skill_time"),
    E("what's the current date?", "skill_time"),
    E("what tiem is it", "skill_time"),
    # ------------------------------------------------------------------ unknown
    E("what's the weather", "unknown", candidates=("help",)),
    E("buy a license", "unknown", candidates=("help",)),
    E("how much does it cost", "unknown", candidates=("help",)),
    E("transfer my license to my wife", "unknown", candidates=("help",)),
    E("delete my account", "unknown", candidates=("help",)),
    E("", "unknown", candidates=("help",)),
    E("   ", "unknown", candidates=("help",)),
    E("\t\n", "unknown", candidates=("help",)),
    E("please", "unknown", {}),  # on its own: "yes" (act affirm)
    E("asdfghjkl", "unknown", candidates=("help",)),
    E("how do I buy a license?", "unknown", candidates=("help",)),
    E("what's the price of a licence", "unknown", candidates=("help",)),
    E("can I get a refund", "unknown", candidates=("help",)),
    E("move my license to my new laptop", "help", {"topic": "move_license"}),
    E("upgrade my license to pro", "unknown", candidates=("help",)),
    E("how much is a license", "unknown", candidates=("help",)),
    E("reset my password", "unknown", candidates=("help",)),
    E("I want to purchase another seat", "unknown", candidates=("help",)),
    E("give my license to my brother", "unknown", candidates=("help",)),
    E("what's the weather like in Paris tomorrow?", "unknown", candidates=("help",)),
    E("convert my trial license to a full one", "unknown", candidates=("help",)),
    E("I love pizza", "unknown", candidates=("help",)),
    E("???", "unknown", candidates=("help",)),
    E("clear the screen", "unknown", candidates=("help",)),
    E("the quick brown fox", "unknown", candidates=("help",)),
    E("forget it", "unknown", {}),  # "no" (act deny)
    E("sign me up for the newsletter", "unknown", candidates=("help",)),
    # ------------------------------------------------------------------ clarify
    E("activate", "clarify", candidates=ACT_BOTH),
    E("activate my license", "clarify", candidates=ACT_BOTH),
    E("please activate", "clarify", candidates=ACT_BOTH),
    E("register", "clarify", candidates=ACT_BOTH),
    E("ACTIVATE", "clarify", candidates=ACT_BOTH),
    E("actvate", "clarify", candidates=ACT_BOTH),
    E("activate online or offline?", "clarify", candidates=ACT_BOTH),
    E("I want to activate this software", "clarify", candidates=ACT_BOTH),
    E("deactivate", "clarify", candidates=DEACT_BOTH),
    E("deactivate my license", "clarify", candidates=DEACT_BOTH),
    E("unregister this computer", "clarify", candidates=DEACT_BOTH),
    E("release my license", "clarify", candidates=DEACT_BOTH),
    E(f"deactivate {K}", "clarify", {"key": K}, DEACT_BOTH),
    E("~/Downloads/ls_activation.lic", "clarify",
      {"path": "~/Downloads/ls_activation.lic"}, LIC_BOTH),
    E(r"C:\Users\Bob\Desktop\ls_activation.lic", "clarify",
      {"path": r"C:\Users\Bob\Desktop\ls_activation.lic"}, LIC_BOTH),
    E('"~/My Downloads/license.lic"', "clarify",
      {"path": "~/My Downloads/license.lic"}, LIC_BOTH),
    E("license_refresh.lic", "clarify", {"path": "license_refresh.lic"}, LIC_BOTH),
    E("here's the file: ~/ls_activation.lic", "clarify",
      {"path": "~/ls_activation.lic"}, LIC_BOTH),
    E("load ~/Downloads/ls_activation.lic", "clarify",
      {"path": "~/Downloads/ls_activation.lic"}, LIC_BOTH),
    E("delete my license", "clarify",
      candidates=("clear_storage", "deactivate_online", "deactivate_offline")),
    E("check online and locally", "clarify", candidates=("check_online", "local_check")),
    # quit is never chosen on a fuzzy guess; deactivation and clearing may be, since the bot confirms them first
    E("qiut", "clarify", candidates=("quit",)),
    E("exti", "clarify", candidates=("quit",)),
    E("quti", "clarify", candidates=("quit",)),
    E("deactvate offline", "deactivate_offline"),
    E("deactivte online", "deactivate_online"),
    E("deactivate offlne", "deactivate_offline"),
    E("unregistr offline", "deactivate_offline"),
    E("wpie local storage", "clear_storage"),
    E("clear local storgae", "clear_storage"),
    E("clear storgae", "clear_storage"),
    E("forgett everything", "clear_storage"),
    E("deactvate", "clarify", candidates=DEACT_BOTH),
    # --------------------------------------------------- the "please" trap etc.
    E("please deactivate online", "deactivate_online"),
    E("please activate offline", "activate_offline"),
    E("please, please activate online", "activate_online"),
    E("please tell me a joke", "skill_joke"),
    E("please quit", "quit"),
    E("please help", "help"),
    E("clean up my desk", "unknown", candidates=("help",)),
    E("the user is online", "unknown", candidates=("help",)),
    E("that is quite enough", "unknown", candidates=("help",)),
    E("I have a task for you", "unknown", candidates=("help",)),
    E("lease a car", "unknown", candidates=("help",)),
    # ------------------------------------------- realistic, wordy phrasings
    E("I'm on a plane with no internet, activate please", "activate_offline"),
    E("my computer is not connected to the internet, can you activate it?",
      "activate_offline"),
    E("I don't have internet access, register my copy", "activate_offline"),
    E('can I activate without internet?', 'help', {'topic': 'offline_activation'}),
    E("the license file is at ~/Downloads/ls_activation.lic, use it to activate",
      "activate_offline", {"path": "~/Downloads/ls_activation.lic"}),
    E('activate offline, the file is "C:\\Program Files\\App\\ls_activation.lic"',
      "activate_offline", {"path": "C:\\Program Files\\App\\ls_activation.lic"}),
    E("activate C:\\Program Files\\App\\ls_activation.lic please", "activate_offline",
      {"path": "C:\\Program Files\\App\\ls_activation.lic"}),
    E("activate offline /licenses", "activate_offline", {"path": "/licenses"}),
    E("activate offline with file=~/x.lic", "activate_offline", {"path": "~/x.lic"}),
    E("switch to offline activation", "activate_offline"),
    E("enter license key", "activate_online"),
    E(f"enter {K}", "activate_online", {"key": K}),
    E("Is my subscription active?", "license_status"),
    E('how many days are left on my trial', 'license_status', {'fact': 'expiry'}),
    E('what edition do I have', 'license_status', {'fact': 'license_type'}),
    E("why can't I activate?", "license_status"),
    E("activation failed", "license_status"),
    E("my license is not working", "license_status"),
    E("it says invalid license", "license_status"),
    E("what's included in my license", "list_features"),
    E("refresh with C:/Users/Bob/license_refresh.lic.", "refresh_offline",
      {"path": "C:/Users/Bob/license_refresh.lic"}),
    E("refresh from ~/Downloads/license refresh.lic", "refresh_offline",
      {"path": "~/Downloads/license refresh.lic"}),
    E("I got a refresh file, please apply it", "refresh_offline"),
    E("what is the status of the server", "is_online"),
    E("why is the server unreachable", "is_online"),
    E("internet?", "is_online"),
    E("record a use", "consume"),
    E("burn 2 credits", "consume", {"count": 2}),
    E('do I need internet to activate?', 'help', {'topic': 'offline_activation'}),
    E('is offline activation possible?', 'help', {'topic': 'offline_activation'}),
    E("what does consume do?", "help", {"topic": "consumption"}),  # was offered as the only closest entry
    E("/help", "help"),
    E("/quit", "quit"),
    E("uninstall the license", "clarify",
      candidates=("clear_storage", "deactivate_online", "deactivate_offline")),
    E("apply license_refresh.lic", "clarify", {"path": "license_refresh.lic"}, LIC_BOTH),
    E("use ~/Downloads/ls_activation.lic", "clarify",
      {"path": "~/Downloads/ls_activation.lic"}, LIC_BOTH),
    E("check for updates", "unknown", candidates=("help",)),
    E("cancel my subscription", "unknown", candidates=("help",)),
    E("exit offline mode", "unknown", candidates=("help",)),
    E("go to https://portal.example.com/activate", "clarify", candidates=ACT_BOTH),
    E("how many words does the quick fox have?", "skill_wordcount",
      {"text": "the quick fox"}),
    E("what year is it", "skill_time"),
    E("date today", "skill_time"),
    # ----------------------------------------------------------- more typos
    E("activat offline", "activate_offline"),
    E("actiavte online", "activate_online"),
    E("ofline activation", "activate_offline"),
    E("regster offline", "activate_offline"),
    E("Please Actvate My Licence Offline", "activate_offline"),
    E("licens status", "license_status"),
    E("staus", "license_status"),
    E("chck online", "check_online"),
    E("onlne check", "check_online"),
    E("lcoal check", "local_check"),
    E("feautres", "list_features"),
    E("consuem 3", "consume", {"count": 3}),
    E("relaod license", "reload_license"),
    E("hepl", "help"),
    E("rool a d20", "skill_dice", {"sides": 20}),
    E("waht time is it", "skill_time"),
    E("convrt 5 kg to lbs", "skill_convert", {"value": 5, "unit_from": "kg", "unit_to": "lbs"}),
    E("wrod count", "skill_wordcount"),
    E("deactivat", "clarify", candidates=DEACT_BOTH),
    E("deactivat online", "deactivate_online"),
    E("unregster online", "deactivate_online"),
    E("relase this device offline", "deactivate_offline"),
    E("clera local storage", "clear_storage"),
    E("clear locla storage", "clear_storage"),
    E("dleete all data", "clear_storage"),
    E("exitt", "clarify", candidates=("quit",)),
    E("goodbey", "clarify", candidates=("quit",)),
    E("please, qiut", "clarify", candidates=("quit",)),
    E("wpie license data", "clear_storage"),
    # a typo that only *offers* destructive intents must not override exact words
    E("activate my license on my wifes laptop", "clarify",
      candidates=("clear_storage", "deactivate_online", "deactivate_offline",
                  "activate_online", "activate_offline")),
    E("activate my license on my wife's laptop", "clarify", candidates=ACT_BOTH),
    E("Bob's license status", "license_status"),
    E("let's activate offline", "activate_offline"),
    E(f"here's my key {K}", "activate_online", {"key": K}),
    E("check the time", "skill_time"),
    E('what time does my license expire', 'license_status', {'fact': 'expiry'}),
    E("help me activate offline", "activate_offline"),
    E("can you help me deactivate online", "deactivate_online"),
    E('I need help activating my license', 'help', {'topic': 'offline_activation'}),
    E("quit and deactivate offline", "deactivate_offline"),
    E("tell me a joke about offline activation", "skill_joke"),
    E("how much is 5 kg in pounds", "skill_convert",
      {"value": 5, "unit_from": "kg", "unit_to": "pounds"}),
    E("how much does the pro license cost?", "unknown", candidates=("help",)),
    E("transfer ABCD-1234-EFGH-5678 to another pc", "help", {"topic": "move_license"}),
    E(f"{K} ~/x.lic", "clarify", {"path": "~/x.lic", "key": K}, LIC_BOTH),
    E("deactivate ~/x.req", "deactivate_offline", {"path": "~/x.req"}),
    E(f"create request ~/out.req for {K}", "create_activation_request",
      {"path": "~/out.req", "key": K}),
    E("forget my license", "clarify",
      candidates=("clear_storage", "deactivate_online", "deactivate_offline")),
    E("get my license activated offline", "activate_offline"),
    E("is it activated?", "license_status"),
    # ---- written blind as a held-out check (58/60 on first run), then kept
    E("yo activate this app online pls", "activate_online"),
    E("Can I get this activated using the internet?", "activate_online"),
    E("key: QWER-7890-ASDF-1234", "activate_online", {"key": "QWER-7890-ASDF-1234"}),
    E("register qwer-7890-asdf-1234 online", "activate_online", {"key": "qwer-7890-asdf-1234"}),
    E("my pc is air gapped, activate it", "activate_offline"),
    E("activate via license file /mnt/usb/ls_activation.lic", "activate_offline",
      {"path": "/mnt/usb/ls_activation.lic"}),
    E("I'd like offline registration", "activate_offline"),
    E("Activate it offline using D:\\keys\\ls_activation.lic", "activate_offline",
      {"path": "D:\\keys\\ls_activation.lic"}),
    E("generate the .req file", "create_activation_request"),
    E("I need a request file for offline activation", "create_activation_request"),
    E("make an activation request and save it to ~/req/ls_activation.req",
      "create_activation_request", {"path": "~/req/ls_activation.req"}),
    E("deactivate this computer offline please", "deactivate_offline"),
    E("unregister my device without internet", "deactivate_offline"),
    E("release the seat online", "deactivate_online"),
    E("Deactivate the license via the server", "deactivate_online"),
    E("apply ~/Downloads/license_refresh.lic as a refresh", "refresh_offline",
      {"path": "~/Downloads/license_refresh.lic"}),
    E("refresh my licence using the new file", "refresh_offline"),
    E("please run an online check", "check_online"),
    E("verify the license with the server now", "check_online"),
    E("do a local verification", "local_check"),
    E("check the license offline", "local_check"),
    E("am I properly licensed?", "license_status"),
    E("is everything ok with my licence?", "license_status"),
    E('when will my license expire', 'license_status', {'fact': 'expiry'}),
    E("show license details", "license_status"),
    E("which features are unlocked", "list_features"),
    E("what features does my licence include?", "list_features"),
    E("consume seven credits", "consume", {"count": 7}),
    E("use 4 credits please", "consume", {"count": 4}),
    E("can you record 2 uses", "consume", {"count": 2}),
    E("is the licensing server reachable?", "is_online"),
    E("are we online right now", "is_online"),
    E("can you connect to the server?", "is_online"),
    E("wipe all stored license data", "clear_storage"),
    E("clear the cache", "clear_storage"),
    E("reload the license file from disk", "reload_license"),
    E("reread license", "reload_license"),
    E("what can you help with?", "help"),
    E('how does the local check work', 'help', {'topic': 'local_check'}),
    E("help please", "help"),
    E("exit the program", "quit"),
    E("bye for now", "quit"),
    E("tell me another joke", "skill_joke"),
    E("count words: alpha beta gamma", "skill_wordcount", {"text": "alpha beta gamma"}),
    E("word count for 'red green blue'", "skill_wordcount", {"text": "red green blue"}),
    E("convert 5 miles to kilometers", "skill_convert",
      {"value": 5, "unit_from": "miles", "unit_to": "kilometers"}),
    E("how many grams in ten ounces", "skill_convert",
      {"value": 10, "unit_from": "ounces", "unit_to": "grams"}),
    E("roll a d12", "skill_dice", {"sides": 12}),
    E("roll three dice", "skill_dice", {"count": 3}),
    E("what's the time right now?", "skill_time"),
    E("what day is today", "skill_time"),
    E("how much for a license?", "unknown", candidates=("help",)),
    E("can I move my licence to another computer", "help", {"topic": "move_license"}),
    E("who won the game last night", "unknown", candidates=("help",)),
    E("activate please", "clarify", candidates=("activate_online", "activate_offline")),
    E("unregister", "clarify", candidates=("deactivate_online", "deactivate_offline")),
    E("~/Desktop/new.lic", "clarify",
      {"path": "~/Desktop/new.lic"}, candidates=("activate_offline", "refresh_offline")),
    E("deactiavte offline", "deactivate_offline"),
    E("qit", "unknown", candidates=("help",)),
    E("offlne activate", "activate_offline"),
    # real words near command words are left alone
    E("switch to dark mode", "unknown", candidates=("help",)),
    E("the import failed silently", "unknown", candidates=("help",)),
    E("my wife likes jazz", "unknown", candidates=("help",)),
    E("the stove is hot", "unknown", candidates=("help",)),
    E("detected a problem with the printer", "unknown", candidates=("help",)),
    # ---- causes the v1 set revealed, each with examples of our own (none is a v1 line)
    # short words and question words typed quickly: a dropped vowel or h, a swap, two words run together
    E("jok please", "skill_joke"),
    E("whn does my license expire", "license_status", {"fact": "expiry"}),
    E("wht kind of license do i have", "license_status", {"fact": "license_type"}),
    E("how mny activatons do i hav left", "license_status", {"fact": "activations"}),
    E("hw much credit do i have left", "license_status", {"fact": "consumption"}),
    E("onlinecheck", "check_online"),
    E("licensekey?", "license_status", {"fact": "license_key"}),
    E("whats my devise id", "license_status", {"fact": "device_id"}),
    # facts asked in other words
    E("remind me what my device id is", "license_status", {"fact": "device_id"}),
    E("would you mind telling me my license key?", "license_status", {"fact": "license_key"}),
    E("I'd like to know how many uses are left", "license_status", {"fact": "consumption"}),
    E("till when does my license run?", "license_status", {"fact": "expiry"}),
    E("is dice on my plan?", "license_status", {"fact": "feature", "feature": "dice"}),
    E("does the time skill come with my license?", "license_status", {"fact": "feature", "feature": "time"}),
    E("how many more machines can I register?", "license_status", {"fact": "activations"}),
    E("what is my activation limit", "license_status", {"fact": "activations"}),
    E("credits used so far?", "license_status", {"fact": "consumption"}),
    E("how long until I need to connect to the server?", "license_status", {"fact": "server_contact"}),
    E("how much longer can we stay offline?", "license_status", {"fact": "server_contact"}),
    E("last time my license was verified?", "license_status", {"fact": "last_check"}),
    E("how come it says I am unlicensed?", "license_status"),
    E("why isn't my licence active?", "license_status"),
    # embedded and polite questions keep their meaning
    E("can you tell me if the license server is reachable?", "is_online"),
    E("do you know if I am online?", "is_online"),
    E("can this laptop reach the licensing server?", "is_online"),
    E("I wonder whether my license is still valid", "license_status"),
    # questions about a concept that name a fact, a skill or a command
    E("what is the device id needed for?", "help", {"topic": "hardware_binding"}),
    E("how long does the grace period run?", "help", {"topic": "grace_period"}),
    E("why is the convert skill locked?", "help", {"topic": "skills"}),
    E("which features does the dice skill require?", "help", {"topic": "skills"}),
    E("does the clock check use my time zone?", "help", {"topic": "clock_tampering"}),
    E("what time is it in UTC?", "skill_time"),
    E("take me through deactivating offline", "help", {"topic": "deactivation"}),
    E("show me how to refresh my license", "help", {"topic": "refresh"}),
    E("if I clear local storage, can I activate again?", "help", {"topic": "clear_storage"}),
    E("once I deactivate, is the license gone from this pc?", "help", {"topic": "deactivation"}),
    E("after I wipe storage, is my activation still counted?", "help", {"topic": "clear_storage"}),
    E("my pc crashed, can I move my license?", "help", {"topic": "move_license"}),
    E("why is it still licensed after I deleted license.dat?", "help", {"topic": "memory_vs_disk"}),
    E("what does reloadLicense do?", "help", {"topic": "memory_vs_disk"}),
    E("what does deactivating do to my skills?", "help", {"topic": "deactivation"}),
    E("why won't the portal give me a lic file?", "help", {"topic": "refusal_reasons"}),
    E("does the request contain my password?", "help", {"topic": "request_file"}),
    E("does a reinstall cost me an activation?", "help", {"topic": "activations"}),
    E("I copied the req to a stick and uploaded it at the portal, now where does the lic file go?", "help",
      {"topic": "response_file"}),
    E("how do I close the app?", "help"),
    # paths with spaces typed last; quitting said of the app
    E("save the deactivation request to ~/My Stick/", "deactivate_offline", {"path": "~/My Stick/"}),
    E("create the request file in ~/My Files, please", "create_activation_request", {"path": "~/My Files"}),
    E("shut down the chatbot", "quit"),
    E("close this window", "quit"),
    # ------------------------------------------------------------ floating seats
    E("get a seat", "request_seat"),
    E("take a floating seat", "request_seat"),
    E("I need a seat", "request_seat"),
    E("check out a seat please", "request_seat"),
    E("could you get me a floating seat?", "request_seat"),
    E("grab a lease", "request_seat"),
    E("get a seta", "request_seat"),
    E("release my seat", "release_seat"),
    E("give my seat back", "release_seat"),
    E("free up my seat", "release_seat"),
    E("I'm done with the seat", "release_seat"),
    E("relase my seat", "release_seat"),
    E("borrow a seat for 3 days", "borrow_seat", {"duration": 3 * 86_400}),
    E("borrow a floating seat for a week", "borrow_seat", {"duration": 7 * 86_400}),
    E("borow a seat for two weeks", "borrow_seat", {"duration": 14 * 86_400}),
    E("please borrow a seat for 36 hours", "borrow_seat", {"duration": 36 * 3_600}),
    E("borrow a seat 72h", "borrow_seat", {"duration": 72 * 3_600}),
    E("borrow a seat for half a day", "borrow_seat", {"duration": 12 * 3_600}),
    E("borrow a seat", "borrow_seat"),
    E("return the borrowed seat", "return_borrowed_seat"),
    E("give back the borrowed seat", "return_borrowed_seat"),
    E("returm the borowed seat", "return_borrowed_seat"),
    E("how many seats are free?", "list_seats"),
    E("who holds the seats?", "list_seats"),
    E("are any seats free", "list_seats"),
    E("seats", "list_seats"),
    E("show the floating seats", "list_seats"),
    E("is the floating server running?", "list_seats"),
    E("start the floating server", "start_floating_server"),
    E("launch the floating server please", "start_floating_server"),
    E("stop the floating server", "stop_floating_server"),
    E("shut down the floating server", "stop_floating_server"),
    E("do I have a seat?", "license_status", {"fact": "seat"}),
    E("how much time is left on my seat?", "license_status", {"fact": "seat"}),
    E("when does my borrowed seat end?", "license_status", {"fact": "seat"}),
    # ... asked about, never run
    E("can I borrow a seat?", "help", {"topic": "floating_borrowing"}),
    E("how do I return a borrowed seat?", "help", {"topic": "floating_borrowing"}),
    E("what is a floating license?", "help", {"topic": "floating_licenses"}),
    E("what happens if the floating server goes down?", "help", {"topic": "floating_server_lost"}),
    E("what is a heartbeat?", "help", {"topic": "floating_leases"}),
    E("what happens to my seat when I quit?", "help", {"topic": "floating_leases"}),
    E("how do I start the floating server?", "help", {"topic": "floating_licenses"}),
    # an activation given back is not a floating seat
    E("release the seat offline", "deactivate_offline"),
]


def _id(example: Example) -> str:
    return repr(example.text)[:60]


def _check(example: Example, result: Intent) -> bool:
    """Whether ``result`` matches the example (name, exact slots, candidates)."""
    if result.name != example.name or dict(result.slots) != example.slots:
        return False
    return example.candidates is None or result.candidates == example.candidates


@pytest.mark.parametrize("example", EXAMPLES, ids=_id)
def test_example(example: Example) -> None:
    result = parse(example.text)
    assert result.name == example.name, result
    assert dict(result.slots) == example.slots, result
    if example.candidates is not None:
        assert result.candidates == example.candidates, result


def test_table_is_large_and_covers_every_intent_and_slot() -> None:
    assert len(EXAMPLES) >= 300
    assert {e.name for e in EXAMPLES} == set(INTENT_NAMES)
    slots_seen = {slot for e in EXAMPLES for slot in e.slots}
    assert slots_seen == set(intents.SLOT_NAMES) - {"choice"}  # choices come with acts: tests/chatbot/test_acts.py


def test_clarify_examples_always_state_candidates() -> None:
    for example in EXAMPLES:
        if example.name == "clarify":
            assert example.candidates, example


def test_accuracy_over_table(capsys: pytest.CaptureFixture[str]) -> None:
    correct = sum(_check(e, parse(e.text)) for e in EXAMPLES)
    accuracy = correct / len(EXAMPLES)
    with capsys.disabled():
        print(f"\nintent accuracy: {correct}/{len(EXAMPLES)} = {accuracy:.1%}")
    assert accuracy == 1.0


# ------------------------------------------------------------------ API shape
def test_intent_names_are_exact() -> None:
    assert INTENT_NAMES == (
        "activate_online", "activate_offline", "create_activation_request",
        "deactivate_online", "deactivate_offline", "refresh_offline", "check_online",
        "local_check", "license_status", "list_features", "consume", "is_online",
        "clear_storage", "reload_license", "help", "quit", "skill_joke",
        "skill_wordcount", "skill_convert", "skill_dice", "skill_time", "unknown",
        "clarify", "request_seat", "release_seat", "borrow_seat", "return_borrowed_seat", "list_seats",
        "start_floating_server", "stop_floating_server",
    )
    assert intents.ACTIVATE_OFFLINE == "activate_offline"
    assert intents.DESTRUCTIVE_INTENTS == {
        "deactivate_online", "deactivate_offline", "clear_storage", "quit"}


def test_intent_is_frozen_and_slots_read_only() -> None:
    result = parse(f"activate {K}")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.name = "quit"  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.slots["key"] = "x"  # type: ignore[index]
    assert isinstance(result.candidates, tuple)
    assert hash(result) == hash(parse(f"activate {K}"))


def test_intent_rejects_unknown_name() -> None:
    with pytest.raises(ValueError):
        Intent("launch_rockets")


def test_slot_values_have_the_right_types() -> None:
    assert isinstance(parse("consume three").slots["count"], int)
    assert isinstance(parse("convert 10 km to miles").slots["value"], int)
    assert isinstance(parse("convert 2.5 km to miles").slots["value"], float)
    assert isinstance(parse("roll 2 dice with 8 sides").slots["sides"], int)


def test_intent_pickles_copies_and_serialises() -> None:
    import copy
    import pickle

    result = parse("activate ~/x.lic")
    assert pickle.loads(pickle.dumps(result)) == result
    assert copy.deepcopy(result) == result
    assert result.as_dict() == {"name": "activate_offline", "slots": {"path": "~/x.lic"}, "candidates": [],
                                "act": None, "closest": [], "code": None, "user": None}


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        parse(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------- determinism
@pytest.mark.parametrize("text", [e.text for e in EXAMPLES[::7]])
def test_deterministic(text: str) -> None:
    first, second = parse(text), parse(text)
    assert first == second
    assert first.candidates == second.candidates


def test_home_directory_is_not_expanded() -> None:
    assert parse("activate ~/x.lic").slots["path"] == "~/x.lic"


def test_please_is_never_corrected_into_release() -> None:
    for text in ("please", "please please", "please help", "please activate offline"):
        assert not parse(text).name.startswith("deactivate"), text


@pytest.mark.parametrize("text", ["qiut", "exti", "goodbyee", "QIUT", "please, qiut"])
def test_quit_never_comes_from_a_typo(text: str) -> None:
    """Quitting is not confirmed, so a typo of it is asked about instead."""
    result = parse(text)
    assert result.name == "clarify" and result.candidates == ("quit",), result


def test_a_three_letter_typo_never_becomes_a_destructive_word() -> None:
    """Short typos are read as the word with a vowel or h dropped ("jok", "hav"), never as quit, exit or clear."""
    from chatbot.intents.tokens import _SHORT_TYPOS
    from chatbot.intents.vocabulary import _CANON

    assert _SHORT_TYPOS["jok"] == "joke" and _SHORT_TYPOS["wen"] == "when"
    assert not {_CANON.get(word) for word in _SHORT_TYPOS.values()} & {"quit", "clear", "deactivate", "forget", "release"}
    assert "qit" not in _SHORT_TYPOS and "ext" not in _SHORT_TYPOS


@pytest.mark.parametrize("text, path", [
    ("write the request to /media/My USB/", "/media/My USB/"),
    ("save the request in D:\\Licence Files then", "D:\\Licence Files"),
    ("put the request file on ~/usb stick, please", "~/usb stick"),
    ("create the request in ~/My Docs and stop", "~/My Docs"),
])
def test_a_folder_typed_last_may_hold_spaces(text: str, path: str) -> None:
    assert parse(text).slots.get("path") == path


@pytest.mark.parametrize("text, name", [
    ("deactvate offline", "deactivate_offline"), ("deactivte online", "deactivate_online"),
    ("wpie local storage", "clear_storage"), ("unregistr online", "deactivate_online"),
    ("delte local storage", "clear_storage"), ("ersae all data", "clear_storage"),
    ("please deactvate my license offline", "deactivate_offline"),
])
def test_a_typo_of_an_action_the_bot_confirms_is_read_as_that_action(text: str, name: str) -> None:
    """Deactivating and clearing are confirmed by the bot before they run (tests/chatbot/test_dialogue.py)."""
    assert parse(text).name == name


@pytest.mark.parametrize("text, name", [
    ("activate offline", "activate_offline"),
    ("consume", "consume"),
    ("roll a die", "skill_dice"),
    ("refresh", "refresh_offline"),
    ("convert units", "skill_convert"),
    ("word count", "skill_wordcount"),
    ("create an activation request", "create_activation_request"),
])
def test_missing_slot_never_makes_clarify(text: str, name: str) -> None:
    result = parse(text)
    assert (result.name, dict(result.slots)) == (name, {})


# ------------------------------------------------------------ property tests
@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_never_raises(text: str) -> None:
    result = parse(text)
    assert isinstance(result, Intent)
    assert result.name in INTENT_NAMES
    assert set(result.slots) <= set(intents.SLOT_NAMES)
    assert all(c in INTENT_NAMES for c in result.candidates)
    if result.name == "clarify":
        assert result.candidates


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9]{4}(?:-[A-Za-z0-9]{4}){3}", fullmatch=True),
       st.sampled_from(["activate {}", "register key {}", "{}", "please activate {} for me"]))
def test_any_key_is_kept_as_typed(key: str, template: str) -> None:
    result = parse(template.format(key))
    assert result.name == "activate_online"
    assert result.slots == {"key": key}


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_ .-]{0,30}", fullmatch=True),
       st.sampled_from(["~/Downloads/", "C:\\Users\\Bob Smith\\", "/tmp/", "./"]))
def test_any_quoted_lic_path_is_kept_as_typed(name: str, folder: str) -> None:
    path = f"{folder}{name}.lic"
    result = parse(f'activate offline "{path}"')
    assert result.name == "activate_offline"
    assert result.slots == {"path": path}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(
    "activate deactivate offline online license please ~/a b.lic C:\\x\\y.req "
    "ABCD-1234-EFGH-5678 roll d20 convert 3 km to miles quit exit twenty five "
    "count words \" ' - . ? !".split(" ")), max_size=12).map(" ".join))
def test_parse_never_raises_on_command_soup(text: str) -> None:
    result = parse(text)
    assert result.name in INTENT_NAMES
    assert result == parse(text)
